"""Private helpers shared by the trainer and :func:`pygen.train.evaluate.evaluate`.

They turn a batch into per-example log-likelihoods, check its shape, and decide which
metrics (bits per dimension, accuracy) a batch supports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

Mode = Literal["distribution", "layer"]
AccuracyKind = Literal["labels", "onehot"]
MODES: tuple[str, ...] = ("distribution", "layer")
LN2 = math.log(2.0)


def check_mode(mode: object) -> None:
    """Raise ``ValueError`` unless ``mode`` is ``"distribution"`` or ``"layer"``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")


def required_length(mode: Mode) -> int:
    """How many elements each dataset item needs in ``mode``."""
    return 1 if mode == "distribution" else 2


def check_item(item: object, mode: Mode, what: str) -> None:
    """Check one dataset item (or batch) is a tuple/list long enough for ``mode``.

    Raises:
        TypeError: if ``item`` is not a tuple or list.
        ValueError: if it is too short.
    """
    needed = required_length(mode)
    usage = (
        "(x, ...) whose first element is modelled"
        if mode == "distribution"
        else "(x, y, ...) with the input and the target"
    )
    if not isinstance(item, (tuple, list)):
        raise TypeError(
            f"{what} must be a tuple {usage}; got {type(item).__name__}"
            + (f" of shape {list(item.shape)}" if isinstance(item, torch.Tensor) else "")
            + " (wrap tensors in torch.utils.data.TensorDataset)"
        )
    if len(item) < needed:
        raise ValueError(
            f"{what} must be a tuple of at least {needed} element(s) {usage}; "
            f"got a {type(item).__name__} of length {len(item)}"
        )


def split_batch(batch: Sequence[Any], mode: Mode, reverse_inputs: bool) -> tuple[Any, Any]:
    """Return ``(inputs, target)``; ``inputs`` is None in distribution mode."""
    if mode == "distribution":
        return None, batch[0]
    if reverse_inputs:
        return batch[1], batch[0]
    return batch[0], batch[1]


class LogProbModule(nn.Module):
    """Wraps a trainable so that ``forward`` computes the per-example log-likelihood.

    DistributedDataParallel synchronises gradients only for work done inside
    ``forward``; a distribution's ``log_prob`` is not ``forward``, hence this adapter.
    ``forward(inputs, target)`` returns ``(log_prob, output)`` where ``output`` is the
    layer's distribution (None in distribution mode).
    """

    def __init__(self, trainable: nn.Module, mode: Mode) -> None:
        super().__init__()
        self.trainable = trainable
        self.mode = mode

    def forward(self, inputs: Any, target: Any) -> tuple[torch.Tensor, Any]:
        if self.mode == "distribution":
            return self.trainable.log_prob(target), None
        output = self.trainable(inputs)
        log_prob = getattr(output, "log_prob", None)
        if log_prob is None:
            raise TypeError(
                "LayerTrainer: the trainable's output must be a distribution with a "
                f"log_prob method; calling it returned {type(output).__name__}"
            )
        return log_prob(target), output


def check_log_prob_shape(log_prob: object, batch_length: int, where: str) -> None:
    """Check ``log_prob`` holds one value per example: shape ``[batch_length]``.

    Raises:
        TypeError: if it is not a tensor.
        ValueError: if its shape is not ``[batch_length]``.
    """
    if not isinstance(log_prob, torch.Tensor):
        raise TypeError(f"{where}: log_prob must return a tensor, got {type(log_prob).__name__}")
    if log_prob.shape != (batch_length,):
        raise ValueError(
            f"{where}: log_prob must return one value per example, shape [{batch_length}] "
            f"for a batch of {batch_length}; got shape {list(log_prob.shape)}. Sum the event "
            "dimensions into the event (torch.distributions.Independent) and check the "
            "target's shape (a label shaped [N, 1] against a Categorical of batch [N] "
            "broadcasts to [N, N])."
        )


def batch_length(target: Any) -> int:
    """The number of examples in a batch (its target's leading dimension)."""
    if isinstance(target, torch.Tensor):
        if target.dim() == 0:
            raise ValueError(
                "batch: the modelled element must have a leading batch dimension; got a "
                "0-dimensional tensor"
            )
        return target.shape[0]
    return len(target)


def event_numel(target: Any, mode: Mode) -> int | None:
    """The dimension count used for bits per dimension, or None when it is not reported.

    Distribution mode: the number of elements of one example (1 for scalar examples).
    Layer mode: the number of elements of one target example when the target is floating
    point or has more than one element per example (images, sequences); a single integer
    class label per example gets no bits per dimension (accuracy is reported instead).
    """
    if not isinstance(target, torch.Tensor) or target.dim() == 0:
        return None
    numel = math.prod(target.shape[1:])
    if numel < 1:
        return None
    if mode == "distribution" or target.is_floating_point() or numel > 1:
        return numel
    return None


def _class_scores(output: Any) -> torch.Tensor | None:
    for name in ("logits", "probs"):
        try:
            scores = getattr(output, name)
        except (AttributeError, NotImplementedError):
            continue
        if isinstance(scores, torch.Tensor) and scores.dim() >= 1:
            return scores
    return None


def accuracy_kind(output: Any, target: Any) -> AccuracyKind | None:
    """Whether accuracy applies to this output/target pair, and how to compute it.

    ``"labels"``: the output has ``logits`` or ``probs`` with the classes on the last
    dimension and the target holds integer class labels of shape ``logits.shape[:-1]``
    (a Categorical). ``"onehot"``: the target has the same shape as the scores and the
    output's event is the class dimension (a OneHotCategorical). Otherwise None.
    """
    if output is None or not isinstance(target, torch.Tensor):
        return None
    scores = _class_scores(output)
    if scores is None:
        return None
    integer = not target.is_floating_point() and target.dtype != torch.bool
    if integer and scores.shape[:-1] == target.shape:
        return "labels"
    event_shape = getattr(output, "event_shape", None)
    if (
        event_shape is not None
        and tuple(event_shape) == tuple(scores.shape[-1:])
        and target.shape == scores.shape
    ):
        return "onehot"
    return None


def correct_count(output: Any, target: torch.Tensor, kind: AccuracyKind) -> torch.Tensor:
    """The number of correctly classified examples, as a float tensor (no sync)."""
    scores = _class_scores(output)
    assert scores is not None
    predicted = scores.detach().argmax(-1)
    labels = target if kind == "labels" else target.argmax(-1)
    return (predicted == labels).sum(dtype=torch.float32)

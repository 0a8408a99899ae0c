"""Log-likelihood (and bits per dimension, accuracy) of a model over a whole dataset."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import torch
from torch import nn
from torch.utils.data import Dataset

from pygen.train._objective import (
    LN2,
    Mode,
    accuracy_kind,
    batch_length,
    check_item,
    check_log_prob_shape,
    check_mode,
    correct_count,
    event_numel,
    split_batch,
)
from pygen.train.batching import BatchLoader

__all__ = ["evaluate"]


def _model_device(trainable: object) -> torch.device:
    """The device of the first parameter or buffer of ``trainable`` (CPU if it has none)."""
    if isinstance(trainable, nn.Module):
        for tensor in trainable.parameters():
            return tensor.device
        for tensor in trainable.buffers():
            return tensor.device
    return torch.device("cpu")


def _evaluation_sums(
    trainable: Any, batches: Iterable[Any], mode: Mode, reverse_inputs: bool, where: str
) -> list[float]:
    """Sum log-likelihood and correct predictions over ``batches`` (no grad).

    Returns:
        ``[log_prob_sum, examples, correct, examples_with_accuracy, event_numel]`` where
        ``event_numel`` is 0 when bits per dimension do not apply.
    """
    log_prob_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.float64)
    examples = 0
    accuracy_examples = 0
    numel = 0
    kind: str | None = None
    first = True
    with torch.no_grad():
        for batch in batches:
            if first:
                check_item(batch, mode, f"{where}: batches")
            inputs, target = split_batch(batch, mode, reverse_inputs)
            if mode == "distribution":
                if not hasattr(trainable, "log_prob"):
                    raise TypeError(
                        f"{where}: trainable must have a log_prob method, got "
                        f"{type(trainable).__name__}"
                    )
                output = None
                log_prob = trainable.log_prob(target)
            else:
                output = trainable(inputs)
                if not hasattr(output, "log_prob"):
                    raise TypeError(
                        f"{where}: the trainable's output must have a log_prob method; "
                        f"got {type(output).__name__}"
                    )
                log_prob = output.log_prob(target)
            size = batch_length(target)
            check_log_prob_shape(log_prob, size, where)
            if first:
                kind = accuracy_kind(output, target)
                numel = event_numel(target, mode) or 0
                first = False
            log_prob_sum = log_prob_sum + log_prob.detach().double().sum().cpu()
            examples += size
            if kind is not None:
                correct = correct + correct_count(output, target, kind).double().cpu()
                accuracy_examples += size
    return [
        float(log_prob_sum),
        float(examples),
        float(correct),
        float(accuracy_examples),
        float(numel),
    ]


def _metrics_from_sums(sums: list[float], prefix: str = "") -> dict[str, float]:
    """Turn :func:`_evaluation_sums` (possibly summed over ranks) into mean metrics."""
    log_prob_sum, examples, correct, accuracy_examples, numel = sums
    log_prob = log_prob_sum / examples
    metrics = {f"{prefix}log_prob": log_prob}
    if numel > 0:
        metrics[f"{prefix}bits_per_dim"] = -log_prob / (numel * LN2)
    if accuracy_examples > 0:
        metrics[f"{prefix}accuracy"] = correct / accuracy_examples
    return metrics


class _ModeRestorer:
    """Puts every submodule in eval mode and restores each one's flag afterwards."""

    def __init__(self, trainable: Any) -> None:
        self.modules = list(trainable.modules()) if isinstance(trainable, nn.Module) else []
        self.flags = [module.training for module in self.modules]

    def __enter__(self) -> None:
        for module in self.modules:
            module.training = False

    def __exit__(self, *exc: object) -> None:
        for module, flag in zip(self.modules, self.flags, strict=True):
            module.training = flag


def evaluate(
    trainable: Any,
    dataset: Dataset[Any],
    *,
    mode: Literal["distribution", "layer"],
    batch_size: int = 32,
    reverse_inputs: bool = False,
) -> dict[str, float]:
    """Mean log-likelihood per example of ``trainable`` over every example of ``dataset``.

    The model is put in eval mode (and each submodule's mode restored afterwards), no
    gradients are kept, batches are moved to the model's device, and nothing is dropped.

    Args:
        trainable: a distribution with ``log_prob`` (``mode="distribution"``: it models the
            first element of each item) or a layer returning one (``mode="layer"``: it
            models the second element given the first, or the reverse with
            ``reverse_inputs``).
        dataset: a map-style dataset of tuples.
        mode: ``"distribution"`` or ``"layer"``.
        batch_size: examples per evaluation batch.
        reverse_inputs: in layer mode, model the first element given the second.

    Returns:
        ``{"log_prob": mean log-likelihood per example}``, plus ``"bits_per_dim"`` when
        the event size is known (``-log_prob / (D ln 2)``, see the trainer for ``D``) and
        ``"accuracy"`` when the layer's output is categorical (``logits``/``probs`` over
        classes) and the targets are class labels or one-hot vectors.

    Raises:
        ValueError: if ``mode`` or ``batch_size`` is invalid, the dataset is empty, or
            ``log_prob`` does not return one value per example.
        TypeError: if items are not tuples or there is no ``log_prob``.

    Example:
        >>> import torch
        >>> from torch.utils.data import TensorDataset
        >>> from pygen.train.evaluate import evaluate
        >>> class Coin(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.logit = torch.nn.Parameter(torch.zeros(()))
        ...
        ...     def log_prob(self, x):
        ...         return torch.distributions.Bernoulli(logits=self.logit).log_prob(x)
        >>> data = TensorDataset(torch.tensor([0.0, 1.0, 1.0, 0.0]))
        >>> metrics = evaluate(Coin(), data, mode="distribution", batch_size=2)
        >>> round(metrics["log_prob"], 4), round(metrics["bits_per_dim"], 4)
        (-0.6931, 1.0)
    """
    check_mode(mode)
    if mode == "distribution" and not hasattr(trainable, "log_prob"):
        raise TypeError(
            f"evaluate: trainable must have a log_prob method in distribution mode, got "
            f"{type(trainable).__name__}"
        )
    if mode == "layer" and not callable(trainable):
        raise TypeError(
            f"evaluate: trainable must be callable in layer mode, got {type(trainable).__name__}"
        )
    loader = BatchLoader(
        dataset,
        batch_size,
        shuffle=False,
        drop_last=False,
        device=_model_device(trainable),
    )
    with _ModeRestorer(trainable):
        sums = _evaluation_sums(trainable, loader.batches(0), mode, reverse_inputs, "evaluate")
    return _metrics_from_sums(sums)

"""The objective (log-likelihood, bits per dimension, accuracy, ...) of a model over a dataset."""

from __future__ import annotations

from typing import Any, Literal

from torch.utils.data import Dataset

from pygen.train._metrics import EvalMode, evaluation_sums, means_from_sums
from pygen.train._options import model_device
from pygen.train.batching import BatchLoader
from pygen.train.objective import (
    LayerLogProbObjective,
    LogProbObjective,
    Objective,
    ObjectiveFunction,
    as_objective,
)

__all__ = ["evaluate"]

_MODES = ("distribution", "layer")


def evaluate(
    trainable: Any,
    dataset: Dataset[Any],
    *,
    mode: Literal["distribution", "layer"] | None = None,
    objective: Objective | ObjectiveFunction | None = None,
    batch_size: int = 32,
    reverse_inputs: bool = False,
) -> dict[str, float]:
    """Mean per example of an objective and its metrics over every example of ``dataset``.

    The model is put in eval mode (and each submodule's mode restored afterwards), no
    gradients are kept, batches are moved to the model's device, and nothing is dropped.
    The trainer validates with the same code.

    Args:
        trainable: a distribution with ``log_prob`` (``mode="distribution"``: it models the
            first element of each item), a layer returning one (``mode="layer"``: it
            models the second element given the first, or the reverse with
            ``reverse_inputs``), or any model of ``objective``.
        dataset: a map-style dataset of tuples.
        mode: ``"distribution"`` or ``"layer"`` (the built-in log-likelihood objectives).
        objective: instead of ``mode``, the :class:`~pygen.train.objective.Objective` or
            callable the model was trained with.
        batch_size: examples per evaluation batch.
        reverse_inputs: in layer mode, model the first element given the second.

    Returns:
        The mean per example under the objective's name (``"log_prob"`` for the built-in
        modes) and of each metric it returns (``"accuracy"`` for a categorical layer with
        class labels or one-hot targets), and bits per dimension of likelihoods and
        bounds (``-value / (D ln 2)``, see the trainer for ``D``).

    Raises:
        ValueError: if neither or both of ``mode`` and ``objective`` are given, ``mode``
            or ``batch_size`` is invalid, the dataset is empty, or the objective does not
            return one value per example.
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
    if (mode is None) == (objective is None):
        raise ValueError(
            "evaluate: pass exactly one of mode= ('distribution' or 'layer') and objective=; "
            f"got mode={mode!r} and objective={objective!r}"
        )
    if objective is not None:
        chosen = as_objective(objective)
    elif mode not in _MODES:
        raise ValueError(f"mode must be one of {list(_MODES)}, got {mode!r}")
    elif mode == "distribution":
        if not hasattr(trainable, "log_prob"):
            raise TypeError(
                "evaluate: trainable must have a log_prob method in distribution mode, got "
                f"{type(trainable).__name__}"
            )
        chosen = LogProbObjective()
    else:
        if not callable(trainable):
            raise TypeError(
                "evaluate: trainable must be callable in layer mode, got "
                f"{type(trainable).__name__}"
            )
        chosen = LayerLogProbObjective(reverse_inputs)
    loader = BatchLoader(
        dataset, batch_size, shuffle=False, drop_last=False, device=model_device(trainable)
    )
    with EvalMode(trainable):
        names, sums, examples, numel = evaluation_sums(
            chosen, trainable, loader.batches(0), "evaluate"
        )
    return means_from_sums(names, sums, examples, numel)

"""Private helpers shared by the callbacks: argument checks and trainer access.

Nothing here is public API; every public callback module imports what it needs from here so
that the error messages read the same everywhere (name the argument, say what was expected,
echo what was found).
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from pygen.train.evaluate import evaluate
from pygen.train.metric_names import metric_kind
from pygen.train.state import TrainerState

__all__: list[str] = []

Mode = Literal["auto", "max", "min"]

_MAXIMISED_SUFFIXES = ("log_prob", "accuracy")
_MINIMISED_SUFFIXES = ("bits_per_dim", "loss", "nll")


def numeric_metrics(metrics: Any) -> dict[str, float]:
    """The entries of a metrics dict that are real numbers (bools excluded), as floats."""
    return {
        str(key): float(value)
        for key, value in metrics.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool)
    }


def check_writer(
    owner: str, tb_writer: Any, methods: Sequence[str], *, allow_none: bool = False
) -> None:
    """Raise TypeError unless ``tb_writer`` has each of ``methods`` (or is None when allowed)."""
    if tb_writer is None:
        if allow_none:
            return
        raise TypeError(
            f"{owner}: tb_writer must be a TensorBoard SummaryWriter "
            f"(torch.utils.tensorboard.SummaryWriter); got None"
        )
    missing = [name for name in methods if not callable(getattr(tb_writer, name, None))]
    if missing:
        raise TypeError(
            f"{owner}: tb_writer must be a TensorBoard SummaryWriter with "
            f"{', '.join(methods)}; got {type(tb_writer).__name__} lacking {', '.join(missing)}"
        )


def check_name(owner: str, argument: str, value: Any) -> str:
    """Return ``value`` if it is a non-empty string, else raise."""
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {argument} must be a str; got {type(value).__name__}")
    if not value:
        raise ValueError(f"{owner}: {argument} must be a non-empty string; got ''")
    return value


def check_positive_int(owner: str, argument: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an int (not a bool) at least ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {argument} must be an int; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{owner}: {argument} must be an int >= {minimum}; got {value}")
    return int(value)


def check_dataset(owner: str, dataset: Any, *, minimum: int = 1) -> int:
    """Check that ``dataset`` is a map-style dataset with at least ``minimum`` items."""
    if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
        raise TypeError(
            f"{owner}: dataset must be a map-style dataset with __getitem__ and __len__ "
            f"(e.g. torch.utils.data.TensorDataset); got {type(dataset).__name__}"
        )
    size = len(dataset)
    if size < minimum:
        raise ValueError(
            f"{owner}: dataset must hold at least {minimum} item(s); got {size} item(s)"
        )
    return size


def resolve_mode(owner: str, monitor: str, mode: Any) -> Literal["max", "min"]:
    """Validate ``mode`` and resolve ``"auto"`` from the monitored metric's name."""
    if mode not in ("auto", "max", "min"):
        raise ValueError(f"{owner}: mode must be one of 'auto', 'max', 'min'; got {mode!r}")
    if mode != "auto":
        return mode
    if metric_kind(monitor) != "other":  # log-likelihoods and their bounds (elbo, iwae_k)
        return "max"
    if monitor.endswith(_MAXIMISED_SUFFIXES):
        return "max"
    if monitor.endswith(_MINIMISED_SUFFIXES):
        return "min"
    raise ValueError(
        f"{owner}: mode='auto' cannot tell whether monitor={monitor!r} should go up or down "
        "(known: log-likelihoods and bounds such as elbo and iwae_k, and names ending in "
        f"{', '.join(_MAXIMISED_SUFFIXES)} are maximised, "
        f"{', '.join(_MINIMISED_SUFFIXES)} minimised); pass mode='max' or mode='min'"
    )


def is_improvement(
    score: float, best: float | None, mode: Literal["max", "min"], min_delta: float
) -> bool:
    """Whether ``score`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
    if math.isnan(score):
        return False
    if best is None:
        return True
    if mode == "max":
        return score > best + min_delta
    return score < best - min_delta


def is_main_process(trainer: TrainerState) -> bool:
    """Whether this process should write logs and files (rank 0, or not distributed)."""
    return bool(getattr(trainer, "is_main_process", True))


def trainer_attribute(owner: str, trainer: TrainerState, name: str) -> Any:
    """Read ``trainer.<name>``, raising a clear error if the trainer has no such attribute."""
    try:
        return getattr(trainer, name)
    except AttributeError:
        raise TypeError(
            f"{owner}: expected a pygen.train trainer with attribute {name!r}; "
            f"got {type(trainer).__name__} without it"
        ) from None


INSTEAD_OF_LOG_PROB = (
    "Log the trainer's own metrics with TBMetricsCallback(tb_writer) "
    "(log_batch_metrics=True for every batch), or an objective over a dataset with "
    "TBDatasetObjectiveCallback(tb_writer, dataset, objective) (e.g. IWAE-k on validation data)"
)


def describe_objective(objective: Any) -> str:
    """``"'<name>' (metric kind '<kind>', <what computes it>)"``, as an error names it."""
    name = getattr(objective, "name", None)
    kind = metric_kind(name) if isinstance(name, str) else "unknown"
    function = getattr(objective, "function", None)  # what a CallableObjective wraps
    source = type(objective).__name__
    if function is not None:
        if isinstance(function, types.FunctionType | types.MethodType):
            inner = function.__qualname__
        elif type(function).__repr__ is not object.__repr__:
            inner = repr(function)
        else:
            inner = type(function).__name__
        source += f" of {inner}"
    return f"{name!r} (metric kind {kind!r}, {source})"


def reported_metric_names(trainer: Any) -> str:
    """The names of the metrics the trainer reported so far, for an error message."""
    metrics = getattr(trainer, "batch_metrics", None)
    if isinstance(metrics, dict) and metrics:
        return f"its metrics are {sorted(metrics)}"
    return "the names of the metrics it returns beside it are known after its first batch"


def check_exact_log_prob(owner: str, trainer: Any) -> None:
    """Raise TypeError unless the trainer's objective is an exact log-likelihood.

    The rule is :func:`pygen.train.metric_names.metric_kind` of ``trainer.objective.name``:
    only ``"likelihood"`` passes (a bound such as ``elbo`` or any other objective makes
    ``trainer.log_prob_item`` and ``trainer.total_log_prob`` NaN). A trainer-like object
    without an ``objective`` attribute passes unchecked (the original pygen's duck typing).
    """
    objective = getattr(trainer, "objective", None)
    if objective is None:
        return
    name = getattr(objective, "name", None)
    if isinstance(name, str) and metric_kind(name) == "likelihood":
        return
    raise TypeError(
        f"{owner}: logs the exact log-likelihood ('log_prob'), but the trainer's objective "
        f"is not one: it maximises {describe_objective(objective)} and "
        f"{reported_metric_names(trainer)}, so trainer.log_prob_item and "
        "trainer.total_log_prob are NaN (only an objective named 'log_prob' is an exact "
        "log-likelihood, see pygen.train.metric_names; a bound is never reported as one). "
        f"{INSTEAD_OF_LOG_PROB}."
    )


def monitored_value(owner: str, trainer: TrainerState, monitor: str) -> float:
    """Read ``trainer.metrics[monitor]`` as a float, or explain what is missing."""
    metrics = trainer_attribute(owner, trainer, "metrics")
    if monitor not in metrics:
        hint = ""
        if monitor.startswith("val_"):
            hint = " (val_* metrics exist only when the trainer is given a validation_dataset)"
        raise ValueError(
            f"{owner}: monitor={monitor!r} is not among the trainer's epoch metrics; "
            f"found {sorted(metrics)}{hint}"
        )
    return float(metrics[monitor])


def describe_shape(value: Any) -> str:
    """``"shape [..]"`` for a tensor, else the type's name: the "got ..." of a shape error."""
    if isinstance(value, torch.Tensor):
        return f"shape {list(value.shape)}"
    return type(value).__name__


def unwrap_model(model: Any) -> Any:
    """The user's module behind a DistributedDataParallel / DataParallel wrapper."""
    if isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel):
        return model.module
    return model


def model_device(trainer: TrainerState, model: Any) -> torch.device:
    """The device inputs for ``model`` should live on."""
    device = getattr(trainer, "device", None)
    if device is not None:
        return torch.device(device)
    if isinstance(model, nn.Module):
        for tensor in model.parameters():
            return tensor.device
        for tensor in model.buffers():
            return tensor.device
    return torch.device("cpu")


def evaluate_trainable(
    owner: str, trainer: TrainerState, dataset: Any, batch_size: int, **how: Any
) -> dict[str, float]:
    """``pygen.train.evaluate`` of the trainer's model over ``dataset``, generators forked.

    ``how`` is ``mode=`` (with ``reverse_inputs=``) or ``objective=``. The random number
    generators are forked around the evaluation, so a sampling objective (IWAE-k) leaves
    what training draws afterwards unchanged.
    """
    model = unwrap_model(trainer_attribute(owner, trainer, "trainable"))
    device = model_device(trainer, model)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        return evaluate(model, dataset, batch_size=batch_size, **how)


def ensure_writable_folder(owner: str, argument: str, folder: Any) -> Path:
    """Create ``folder`` if needed and prove it writable by creating a temporary file in it."""
    if not isinstance(folder, str | os.PathLike):
        raise TypeError(
            f"{owner}: {argument} must be a str or os.PathLike; got {type(folder).__name__}"
        )
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as error:
        raise ValueError(
            f"{owner}: {argument} must be a folder this process can write to; "
            f"got {str(path)!r} ({error.strerror or error})"
        ) from error
    return path

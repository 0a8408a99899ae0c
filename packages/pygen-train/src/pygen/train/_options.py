"""The trainer's argument checks and the objects built from its arguments.

One error template: ``"<Trainer>: <argument> must <what was expected>, got <what was
found>"`` (the trainer's class name first, then the argument, the expectation and the
value or type found).
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from pygen.train.callback import Callback, _LegacyCallback
from pygen.train.objective import Objective

__all__: list[str] = []

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], Any]
AmpOption = Literal["bf16", "fp16"] | bool | None
PathOption = str | os.PathLike[str] | None


def rm_scheduler(epoch: int) -> float:
    """The Robbins-Monro learning-rate factor ``1 / sqrt(1 + epoch)``.

    Used with :class:`torch.optim.lr_scheduler.LambdaLR` when ``use_scheduler=True``:
    the steps shrink, but their sum diverges while the sum of their squares (with the
    harmonic tail) stays small, the classic stochastic-approximation conditions.

    Args:
        epoch: the number of scheduler steps taken (epochs finished, or optimizer steps
            with ``scheduler_interval="step"``).

    Returns:
        The factor applied to the initial learning rate.

    Example:
        >>> from pygen.train.train import rm_scheduler
        >>> [round(rm_scheduler(epoch), 4) for epoch in range(4)]
        [1.0, 0.7071, 0.5774, 0.5]
    """
    return 1.0 / math.sqrt(1.0 + epoch)


def check_int(owner: str, name: str, value: object, low: int, *, allow_none: bool = False) -> None:
    """Raise unless ``value`` is an int (not a bool) at least ``low`` (or None if allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be >= {low}, got {value}")


def check_positive(owner: str, name: str, value: object) -> None:
    """Raise unless ``value`` is a positive finite number or None."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{owner}: {name} must be a positive number or None, got {value!r}")


def check_path(owner: str, name: str, value: object) -> Path | None:
    """The path, or None; its folder must exist."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{owner}: {name} must be a str or os.PathLike, got {type(value).__name__}")
    path = Path(value)
    if not path.parent.is_dir():
        raise ValueError(
            f"{owner}: {name} must be in an existing folder; {str(path.parent)!r} (for "
            f"{str(path)!r}) does not exist"
        )
    return path


def check_writable_file(owner: str, name: str, value: object) -> Path | None:
    """:func:`check_path`, and the path must not be a folder and its folder writable.

    Proved by creating (and removing) a temporary file there, so a read-only folder or
    file system fails here rather than at the first save, an epoch later.
    """
    path = check_path(owner, name, value)
    if path is None:
        return None
    if path.is_dir():
        raise ValueError(f"{owner}: {name} must be a file path, not a folder; got {str(path)!r}")
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.check-"):
            pass
    except OSError as error:
        raise ValueError(
            f"{owner}: {name} must be in a folder this process can write to; "
            f"{str(path.parent)!r} "
            f"(for {str(path)!r}) is not writable ({error.strerror or error})"
        ) from error
    return path


def check_distinct_files(
    owner: str, checkpoint_path: Path | None, model_path: Path | None, hooks: Iterable[Callback]
) -> None:
    """Refuse two writers aiming at one file: the trainer's two and each callback's.

    Callbacks declare theirs in :meth:`~pygen.train.callback.Callback.output_files`. Paths
    are compared resolved (``./a.pt`` and ``a.pt`` are one file).
    """
    owners: list[tuple[str, Path | None]] = [
        (f"{owner} checkpoint_path", checkpoint_path),
        (f"{owner} model_path", model_path),
    ]
    for hook in hooks:
        named = hook.function if isinstance(hook, _LegacyCallback) else hook
        files = hook.output_files().items()
        owners += [(f"{type(named).__name__} {label}", path) for label, path in files]
    seen: dict[Path, str] = {}
    for writer, path in owners:
        if path is None:
            continue
        resolved = Path(path).resolve()
        if resolved in seen:
            raise ValueError(
                f"{seen[resolved]} and {writer} both write {str(path)!r}; each would overwrite "
                "the other's file (a checkpoint replaced by a bare state_dict cannot resume): "
                "give them different paths"
            )
        seen[resolved] = writer


def check_trainable(owner: str, trainable: object) -> None:
    """The trainable must be an ``nn.Module`` (its parameters are trained and saved)."""
    if not isinstance(trainable, nn.Module):
        raise TypeError(
            f"{owner}: trainable must be a torch.nn.Module (its parameters are trained and "
            f"checkpointed), got {type(trainable).__name__}"
        )


def check_arguments(
    *,
    owner: str,
    objective: Objective,
    dataset: object,
    batch_size: object,
    max_epoch: object,
    max_steps: object,
    num_workers: object,
    persistent_workers: bool,
    accumulate_grad_batches: object,
    validate_every_n_steps: object,
    checkpoint_every_n_steps: object,
    log_every_n_steps: object,
    checkpoint_every_seconds: object,
    time_limit: object,
    grad_clip_norm: object,
    seed: object,
    drop_last: bool,
    has_validation: bool,
    validation_objective: object,
    checkpoint_path: object,
    skip_nonfinite: bool,
    check_finite: bool,
) -> None:
    """The trainer's arguments, checked in this order.

    The dataset (map-style, non-empty); the sizes, counts and durations; the first
    dataset item against the objective; then the arguments that only make sense together.

    Raises:
        TypeError: for an argument of the wrong kind (a float ``batch_size``, items that
            are not tuples).
        ValueError: for a bad value or a combination that cannot work (``batch_size``
            above the dataset size with ``drop_last``, ``validate_every_n_steps``
            without ``validation_dataset``, ...).
    """
    check_dataset(owner, "dataset", dataset)
    check_int(owner, "batch_size", batch_size, 1)
    check_int(owner, "max_epoch", max_epoch, 0)
    check_int(owner, "max_steps", max_steps, 0, allow_none=True)
    check_int(owner, "num_workers", num_workers, 0)
    check_int(owner, "accumulate_grad_batches", accumulate_grad_batches, 1)
    check_int(owner, "validate_every_n_steps", validate_every_n_steps, 1, allow_none=True)
    check_int(owner, "checkpoint_every_n_steps", checkpoint_every_n_steps, 1, allow_none=True)
    check_int(owner, "log_every_n_steps", log_every_n_steps, 1)
    check_positive(owner, "checkpoint_every_seconds", checkpoint_every_seconds)
    check_positive(owner, "time_limit", time_limit)
    check_positive(owner, "grad_clip_norm", grad_clip_norm)
    check_int(owner, "seed", seed, 0, allow_none=True)
    objective.check_item(dataset[0], f"{owner}: dataset items")  # type: ignore[index]
    dataset_size = len(dataset)  # type: ignore[arg-type]
    if persistent_workers and num_workers == 0:
        raise ValueError(
            f"{owner}: persistent_workers=True needs num_workers > 0 (workers to keep); got "
            "num_workers=0"
        )
    if drop_last and dataset_size < batch_size:  # type: ignore[operator]
        raise ValueError(
            f"{owner}: batch_size must be at most the dataset size when drop_last=True; "
            f"got batch_size={batch_size} for {dataset_size} example(s) (no batch would "
            "run); lower batch_size or pass drop_last=False"
        )
    if not has_validation and validate_every_n_steps is not None:
        raise ValueError(f"{owner}: validate_every_n_steps needs a validation_dataset; got None")
    if not has_validation and validation_objective is not None:
        raise ValueError(f"{owner}: validation_objective needs a validation_dataset; got None")
    if (checkpoint_every_n_steps or checkpoint_every_seconds) and checkpoint_path is None:
        raise ValueError(
            f"{owner}: checkpoint_every_n_steps / checkpoint_every_seconds need a "
            "checkpoint_path; "
            "got checkpoint_path=None"
        )
    if skip_nonfinite and not check_finite:
        raise ValueError(
            f"{owner}: skip_nonfinite=True needs check_finite=True (skipping needs the check); "
            "got "
            "check_finite=False"
        )


def build_hooks(
    batch_end_callback: object,
    epoch_end_callback: object,
    callbacks: Iterable[object],
    owner: str,
) -> tuple[list[Callback], list[Callback]]:
    """The checked ``callbacks`` list, and every hook in call order (legacy callables first).

    Raises:
        TypeError: for a legacy callback that is not callable, or an item of ``callbacks``
            that is not a :class:`~pygen.train.callback.Callback`.
    """
    hooks: list[Callback] = []
    for label, hook, event in (
        ("batch_end_callback", batch_end_callback, "on_batch_end"),
        ("epoch_end_callback", epoch_end_callback, "on_epoch_end"),
    ):
        if hook is not None and not callable(hook):
            raise TypeError(f"{owner}: {label} must be callable or None, got {type(hook).__name__}")
        if hook is not None:
            hooks.append(_LegacyCallback(hook, event))  # type: ignore[arg-type]
    listed = list(callbacks)
    for index, callback in enumerate(listed):
        if not isinstance(callback, Callback):
            raise TypeError(
                f"{owner}: callbacks[{index}] must be a pygen.train.Callback, got "
                f"{type(callback).__name__} (pass plain functions as batch_end_callback "
                "or epoch_end_callback)"
            )
    return listed, [*hooks, *listed]  # type: ignore[list-item]


def check_dataset(owner: str, argument: str, dataset: object) -> None:
    """A non-empty map-style dataset."""
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(
            f"{owner}: {argument} must be a map-style dataset with __len__ and __getitem__, "
            f"got {type(dataset).__name__}"
        )
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise ValueError(f"{owner}: {argument} must not be empty; got a dataset of length 0")


def build_optimizer(
    optimizer: torch.optim.Optimizer | OptimizerFactory | None, trainable: nn.Module, owner: str
) -> torch.optim.Optimizer:
    """The optimizer: default Adam (lr 1e-3), an instance, or a factory's result.

    A factory gets the parameters of ``trainable`` that require grad.

    Raises:
        TypeError: for anything else, or a factory returning something else.
        ValueError: for a default optimizer over no parameters, or an optimizer with
            ``maximize=True`` (the trainer minimises minus the objective; maximize=True
            would minimise the objective).
    """
    parameters = [p for p in trainable.parameters() if p.requires_grad]
    if optimizer is None and not parameters:
        raise ValueError(
            f"{owner}: trainable has no parameters that require grad; nothing to train "
            "(wrap torch.distributions parameters in nn.Parameter inside an nn.Module)"
        )
    if optimizer is None:
        built = torch.optim.Adam(parameters, lr=1e-3)
    elif isinstance(optimizer, torch.optim.Optimizer):
        built = optimizer
    elif callable(optimizer):
        built = optimizer(parameters)
        if not isinstance(built, torch.optim.Optimizer):
            raise TypeError(
                f"{owner}: optimizer factory must return a torch.optim.Optimizer, got "
                f"{type(built).__name__}"
            )
    else:
        raise TypeError(
            f"{owner}: optimizer must be a torch.optim.Optimizer, a callable params -> "
            "optimizer, "
            f"or None; got {type(optimizer).__name__}"
        )
    groups = [index for index, group in enumerate(built.param_groups) if group.get("maximize")]
    if groups:
        raise ValueError(
            f"{owner}: optimizer must minimise: {type(built).__name__} has maximize=True (param "
            f"group(s) {groups}). The trainer already maximises the objective by minimising "
            "its negative, so maximize=True would train it backwards (minimise the "
            "log-likelihood); build the optimizer without maximize=True"
        )
    return built


def build_scheduler(
    use_scheduler: bool,
    scheduler: Any | SchedulerFactory | None,
    optimizer: torch.optim.Optimizer,
    interval: str,
    owner: str,
) -> Any:
    """The scheduler (or None) from ``use_scheduler`` / ``scheduler``.

    Raises:
        ValueError: if both are given, the interval is unknown, or ``ReduceLROnPlateau``
            is asked to step per step.
        TypeError: if ``scheduler`` is not a scheduler or a factory of one.
    """
    if interval not in ("epoch", "step"):
        raise ValueError(f"{owner}: scheduler_interval must be 'epoch' or 'step', got {interval!r}")
    if use_scheduler and scheduler is not None:
        raise ValueError(
            f"{owner}: use_scheduler=True (the Robbins-Monro schedule) and scheduler=... are "
            "exclusive; pass only one"
        )
    if use_scheduler:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, rm_scheduler)
    if scheduler is None:
        return None
    if hasattr(scheduler, "step") and hasattr(scheduler, "state_dict"):
        built = scheduler
    elif callable(scheduler):
        built = scheduler(optimizer)
        if not (hasattr(built, "step") and hasattr(built, "state_dict")):
            raise TypeError(
                f"{owner}: scheduler factory must return a scheduler with step and state_dict, "
                "got "
                f"{type(built).__name__}"
            )
    else:
        raise TypeError(
            f"{owner}: scheduler must be a learning-rate scheduler, a callable optimizer -> "
            f"scheduler, or None; got {type(scheduler).__name__}"
        )
    if interval == "step" and isinstance(built, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise ValueError(
            f"{owner}: scheduler_interval='step' cannot drive ReduceLROnPlateau, which needs an "
            "epoch "
            "metric; use scheduler_interval='epoch'"
        )
    return built


def amp_dtype(amp: AmpOption, device: torch.device, owner: str) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (None: full precision).

    Raises:
        ValueError: for an unknown ``amp``.
    """
    if amp not in (None, False, True, "bf16", "fp16"):
        raise ValueError(
            f"{owner}: amp must be one of None, False, True, 'bf16', 'fp16'; got {amp!r}"
        )
    if not amp:
        return None
    if device.type == "cuda":
        return torch.float16 if amp == "fp16" else torch.bfloat16
    warnings.warn(
        f"amp={amp!r} is ignored: mixed precision is used only on CUDA and the model is on "
        f"{device}",
        RuntimeWarning,
        stacklevel=4,
    )
    return None


def model_device(trainable: object) -> torch.device:
    """The device of the first parameter or buffer of ``trainable`` (CPU if it has none)."""
    if isinstance(trainable, nn.Module):
        for tensor in trainable.parameters():
            return tensor.device
        for tensor in trainable.buffers():
            return tensor.device
    return torch.device("cpu")

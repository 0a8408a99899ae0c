"""Checks that run once, before the first optimizer step, so a mistake costs no epoch.

* The validation objective on one validation batch (what would otherwise fail, or log
  NaN, only at the first validation, after an epoch of training).
* The training objective's value at its first call (floating point, with a gradient;
  :class:`pygen.train._forward.FirstCallCheck`), then no cost per step.
"""

from __future__ import annotations

from typing import Any

import torch

from pygen.train._metrics import EvalMode
from pygen.train.objective import CallableObjective, Objective

__all__: list[str] = []

_GENERIC = "objective"  # the name of an unnamed callable objective


def _same_quantity(first: Objective, second: Objective) -> bool:
    if first is second:
        return True
    return (
        isinstance(first, CallableObjective)
        and isinstance(second, CallableObjective)
        and first.function is second.function
    )


def check_validation_batch(
    objective: Objective,
    training_objective: Objective,
    model: Any,
    batch: Any,
    where: str,
    *,
    check_finite: bool,
) -> str:
    """Evaluate ``objective`` on one batch (no gradient, eval mode, RNG untouched).

    Returns:
        The name its value is reported under (``val_`` + it): its own name, or, for an
        unnamed validation objective unlike the training one, the name of the metric it
        returns that holds the same values (``IWAEObjective``'s ``"iwae_<k>"``).

    Raises:
        TypeError, ValueError: what validation would raise (a scalar instead of one value
            per example, ...); ValueError for non-finite values (with ``check_finite``),
            and for an unnamed validation objective whose value would be logged under the
            training objective's generic name.
    """
    objective.check_item(batch, f"{where}: validation batches")
    devices = [batch[0].device] if getattr(batch[0], "is_cuda", False) else []
    with torch.random.fork_rng(devices=devices), EvalMode(model), torch.no_grad():
        value, metrics = objective.checked(model, batch, f"{where} validation")
    if check_finite and not bool(torch.isfinite(value).all()):
        found = value[~torch.isfinite(value)][:3].tolist()
        raise ValueError(
            f"{where}: the validation objective {objective.name!r} is not finite on the first "
            f"validation batch (e.g. {found}); check validation_dataset for NaN/inf values or "
            "values outside the model's support (found before the first training step)"
        )
    if objective.name != _GENERIC or _same_quantity(objective, training_objective):
        return objective.name
    for name, tensor in metrics.items():
        if tensor.shape == value.shape and torch.equal(tensor, value):
            return name
    if training_objective.name == _GENERIC:
        raise ValueError(
            f"{where}: validation_objective is another function than the objective but is "
            f"unnamed too, so its value would be logged as 'val_{_GENERIC}', the name of the "
            "training objective on validation data. Name it: "
            "CallableObjective(function, name='iwae_10'), or return its value as a named metric"
        )
    return objective.name


def check_trainable_value(value: Any, name: str, where: str) -> None:
    """The training objective's value must be floating point and carry a gradient."""
    if not value.is_floating_point():
        raise TypeError(
            f"{where}: objective {name!r} must return a floating-point tensor to maximise; "
            f"got dtype {value.dtype} (compute it in float, e.g. x.float())"
        )
    if torch.is_grad_enabled() and not value.requires_grad:
        raise ValueError(
            f"{where}: objective {name!r} returned a tensor without a gradient (made under "
            "torch.no_grad(), by .detach() or .item(), or not from the trainable's "
            "parameters), so nothing can be trained; return the value computed from the model"
        )

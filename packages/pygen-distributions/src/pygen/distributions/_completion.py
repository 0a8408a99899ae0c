"""Argument checks and shape plumbing shared by the autoregressive models' generation (private).

MADE, the PixelCNNs and MAF sample and *complete*: given values and a boolean mask of the
observed entries, they keep the observed values and draw the rest in the model's order
(their one ``sample``/``complete`` is ``_autoregressive.AutoregressiveModel``). This
module holds the checks and shape plumbing they use: the ``temperature`` and mask checks, the
check of a conditioning *map*, and the broadcasting of images, mask and condition against
``sample_shape`` into the flat ``[N, ...]`` batches the samplers work on.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from pygen.distributions._validation import broadcast_condition_batch, broadcast_shapes

__all__ = [
    "FlatBatch",
    "check_condition_map",
    "check_generator",
    "check_observed",
    "check_temperature",
    "flatten_generation",
]


def check_temperature(temperature: object) -> float:
    """Return ``temperature`` as a positive finite float.

    Raises:
        TypeError: If it is not a real number (``bool`` is refused).
        ValueError: If it is not positive and finite.
    """
    if not isinstance(temperature, numbers.Real) or isinstance(temperature, bool):
        raise TypeError(
            f"temperature: expected a positive float, found {type(temperature).__name__}"
        )
    value = float(temperature)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"temperature: expected a positive finite float, found {value}")
    return value


def check_generator(generator: object) -> torch.Generator | None:
    """Return ``generator`` if it is ``None`` or a ``torch.Generator``.

    Raises:
        TypeError: If it is anything else (a seed such as ``0`` included).
    """
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator: expected a torch.Generator or None (e.g. "
            f"torch.Generator().manual_seed(0)), found {type(generator).__name__}"
        )
    return generator


def check_condition_map(
    condition: object, condition_shape: torch.Size, dtype: torch.dtype
) -> Tensor:
    """Validate a conditioning map ``[..., C_cond, H, W]`` and return it in ``dtype``.

    Raises:
        TypeError: If it is not a tensor.
        ValueError: If it is missing or does not end in ``condition_shape``.
    """
    expected = tuple(condition_shape)
    if condition is None:
        raise ValueError(
            f"condition: this model was built with condition_channels={expected[0]}; expected "
            f"a map of shape [..., {expected[0]}, {expected[1]}, {expected[2]}], found None"
        )
    if not isinstance(condition, Tensor):
        raise TypeError(f"condition: expected a torch.Tensor, found {type(condition).__name__}")
    if condition.dim() < 3 or tuple(condition.shape[-3:]) != expected:
        raise ValueError(
            f"condition: expected a map of shape [..., {expected[0]}, {expected[1]}, "
            f"{expected[2]}] (batch dims + [C_cond, H, W] = {expected}), "
            f"found shape {tuple(condition.shape)}"
        )
    if not condition.is_floating_point():
        raise TypeError(f"condition: expected a floating-point tensor, found {condition.dtype}")
    return condition.to(dtype)


def _check_mask(observed_mask: object, event_shape: torch.Size) -> Tensor:
    if not isinstance(observed_mask, Tensor):
        raise TypeError(
            f"observed_mask: expected a torch.Tensor of bools, found {type(observed_mask).__name__}"
        )
    if observed_mask.dtype != torch.bool:
        raise TypeError(
            "observed_mask: expected dtype torch.bool (True = observed), "
            f"found {observed_mask.dtype}"
        )
    n = len(event_shape)
    shape = tuple(observed_mask.shape)
    if len(shape) < n or shape[len(shape) - n :] != tuple(event_shape):
        raise ValueError(
            f"observed_mask: expected a shape ending in event_shape {tuple(event_shape)}, "
            f"found shape {shape}"
        )
    return observed_mask


def check_observed(
    images: object,
    observed_mask: object,
    event_shape: torch.Size,
    dtype: torch.dtype,
    check_value: Callable[[Tensor], Tensor],
    *,
    name: str = "images",
) -> Tensor:
    """The observed values of a completion: ``images`` with every unobserved entry 0.

    0 is in every model's support, so ``check_value`` (the model's own shape and support
    check of a value) sees only the observed values. The result has the broadcast shape
    of ``images`` and ``observed_mask``, in ``dtype``.

    Raises:
        TypeError: If ``images`` is not a real tensor or ``observed_mask`` not a bool
            tensor.
        ValueError: If either does not end in ``event_shape``, they do not broadcast, or
            ``check_value`` refuses an observed value.
    """
    if not isinstance(images, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, found {type(images).__name__}")
    n = len(event_shape)
    if images.dim() < n or tuple(images.shape[images.dim() - n :]) != tuple(event_shape):
        check_value(images)  # raises the model's own shape error
    if images.is_complex():
        raise TypeError(f"{name}: expected a real tensor, found dtype {images.dtype}")
    images = images.to(dtype)
    mask = _check_mask(observed_mask, event_shape)
    try:
        broadcast_shapes(images.shape, mask.shape)
    except RuntimeError:
        raise ValueError(
            f"observed_mask: expected batch dims that broadcast with those of {name} "
            f"{tuple(images.shape)}, found shape {tuple(mask.shape)}"
        ) from None
    filled = torch.where(mask.to(images.device), images, torch.zeros((), dtype=images.dtype))
    return check_value(filled)


@dataclass
class FlatBatch:
    """The flat inputs of one generation call and the shape to restore afterwards."""

    count: int
    out_shape: torch.Size
    condition: Tensor | None
    observed: Tensor | None
    mask: Tensor | None


def flatten_generation(
    sample_shape: torch.Size,
    event_shape: torch.Size,
    condition: Tensor | None,
    condition_ndim: int,
    images: Tensor | None = None,
    mask: Tensor | None = None,
) -> FlatBatch:
    """Broadcast condition (and images and mask) to ``sample_shape + batch`` and flatten.

    ``batch`` is the broadcast of the condition's batch dims (all but its last
    ``condition_ndim``) and, for a completion, of the images' and the mask's batch dims.
    The flat tensors are ``[N, *condition_shape]`` and ``[N, *event_shape]``.

    Raises:
        ValueError: If the batch dims do not broadcast, or on the trailing-1 trap
            between images and condition (see ``broadcast_condition_batch``).
    """
    n_event = len(event_shape)
    if condition is not None and images is not None:
        # Refuses images [N, 1, *event] against N conditions (and the converse).
        broadcast_condition_batch(
            images.shape,
            event_shape,
            condition.shape,
            condition.shape[condition.dim() - condition_ndim :],
            owner="complete",
        )
    shapes = {}
    if condition is not None:
        shapes["condition"] = condition.shape[: condition.dim() - condition_ndim]
    if images is not None and mask is not None:
        shapes["images"] = images.shape[: images.dim() - n_event]
        shapes["observed_mask"] = mask.shape[: mask.dim() - n_event]
    try:
        batch = broadcast_shapes(*shapes.values())
    except RuntimeError:
        listed = ", ".join(f"{name} {tuple(shape)}" for name, shape in shapes.items())
        raise ValueError(
            f"expected batch dims that broadcast together, found batch dims {listed}"
        ) from None
    count = math.prod(sample_shape + batch)
    flat_condition = observed = flat_mask = None
    if condition is not None:
        cond_shape = condition.shape[condition.dim() - condition_ndim :]
        flat_condition = condition.expand(*sample_shape, *batch, *cond_shape).reshape(
            count, *cond_shape
        )
    if images is not None and mask is not None:
        observed = images.expand(*sample_shape, *batch, *event_shape).reshape(count, *event_shape)
        flat_mask = (
            mask.to(images.device)
            .expand(*sample_shape, *batch, *event_shape)
            .reshape(count, *event_shape)
        )
    return FlatBatch(count, sample_shape + batch + event_shape, flat_condition, observed, flat_mask)

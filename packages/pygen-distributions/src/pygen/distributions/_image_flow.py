"""Shape and value checks shared by the image flow transforms and ``Glow`` (private).

An image transform acts on the last three dims ``[C, H, W]`` of a tensor; any dims left
of them are batch dims, flattened for the convolutions and restored afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "check_image",
    "check_image_shape",
    "flatten_batch",
    "no_condition",
    "unflatten_batch",
]


def check_image_shape(owner: str, name: str, shape: object) -> torch.Size:
    """Return ``shape`` as a ``torch.Size([C, H, W])`` of positive ints.

    Raises:
        TypeError: If it is not a sequence of ints.
        ValueError: If it does not have three positive entries.
    """
    if not isinstance(shape, (Sequence, torch.Size)) or isinstance(shape, str):
        raise TypeError(f"{owner}: {name}: expected a sequence [C, H, W], found {shape!r}")
    sizes = list(shape)
    if (
        len(sizes) != 3
        or any(not isinstance(s, int) or isinstance(s, bool) for s in sizes)
        or any(s < 1 for s in sizes)
    ):
        raise ValueError(f"{owner}: {name}: expected three positive ints [C, H, W], found {sizes}")
    return torch.Size(sizes)


def check_image(owner: str, name: str, x: object, event_shape: torch.Size | None = None) -> Tensor:
    """Check ``x`` is a finite floating tensor ``[..., C, H, W]`` (ending in ``event_shape``).

    Args:
        owner: Who checks, for the message (``"ActNorm"``, ``"Glow.log_prob"``, ...).
        name: The argument's name, for the message.
        x: The value.
        event_shape: The expected ``[C, H, W]``; None checks only that there are three
            trailing dims.

    Returns:
        ``x`` itself.

    Raises:
        TypeError: If ``x`` is not a floating-point tensor.
        ValueError: If its shape does not end in ``event_shape`` or it holds NaN or inf.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: {name}: expected a torch.Tensor, found {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{owner}: {name}: expected a floating-point tensor, found {x.dtype}")
    if event_shape is None:
        if x.dim() < 3:
            raise ValueError(
                f"{owner}: {name}: expected a shape [..., C, H, W], found shape {tuple(x.shape)}"
            )
    elif x.dim() < 3 or tuple(x.shape[-3:]) != tuple(event_shape):
        raise ValueError(
            f"{owner}: {name}: expected a shape ending in event_shape {tuple(event_shape)}, "
            f"found shape {tuple(x.shape)}"
        )
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        bad = x[~finite]
        raise ValueError(
            f"{owner}: {name}: expected finite values, found {bad.numel()} non-finite "
            f"(e.g. {bad[0].item()}) in a tensor of shape {tuple(x.shape)}"
        )
    return x


def flatten_batch(x: Tensor) -> tuple[Tensor, torch.Size]:
    """``[..., C, H, W]`` as ``[N, C, H, W]``, and the batch shape ``...``."""
    batch_shape = x.shape[:-3]
    return x.reshape(-1, *x.shape[-3:]), batch_shape


def unflatten_batch(x: Tensor, batch_shape: torch.Size) -> Tensor:
    """Undo :func:`flatten_batch` for a tensor ``[N, ...]``."""
    return x.reshape(*batch_shape, *x.shape[1:])


def no_condition(module: nn.Module, condition: object) -> None:
    """Refuse a condition passed to an unconditional image transform."""
    if condition is not None:
        raise ValueError(
            f"{type(module).__name__}: takes no condition (it is not a conditional "
            f"transform); found a {type(condition).__name__}"
        )

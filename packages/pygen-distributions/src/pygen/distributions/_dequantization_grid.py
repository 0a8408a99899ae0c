"""The data-grid check shared by the dequantizations (private)."""

from __future__ import annotations

import torch
from torch import Tensor

from pygen.distributions.constraints import DiscretizedUnitInterval

__all__ = ["grid_indices"]


def grid_indices(owner: str, x: object, num_bins: int) -> Tensor:
    """The integer levels ``k`` of data ``x = k / (num_bins - 1)``, as floats.

    Raises:
        TypeError: If ``x`` is not a floating-point tensor.
        ValueError: If a value is non-finite or off the grid (the message shows one).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: x: expected a torch.Tensor, found {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{owner}: x: expected a floating-point tensor of levels k / {num_bins - 1} in "
            f"[0, 1], found dtype {x.dtype} (divide 8-bit pixels by 255)"
        )
    on_grid = DiscretizedUnitInterval(num_bins).check(x)
    if not bool(on_grid.all()):
        bad = x[~on_grid]
        raise ValueError(
            f"{owner}: x: expected values on the data grid k / {num_bins - 1} "
            f"(k = 0, ..., {num_bins - 1}; num_bins={num_bins}) in [0, 1], found "
            f"{bad.numel()} value(s) off it, e.g. {bad[0].item():.6g}"
        )
    return torch.round(x * (num_bins - 1))

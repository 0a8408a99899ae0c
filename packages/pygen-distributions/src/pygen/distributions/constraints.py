"""The support constraint of the discretized distributions: an even grid on [0, 1]."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.distributions.constraints import Constraint

from pygen.distributions._validation import check_count

__all__ = ["DiscretizedUnitInterval"]


class DiscretizedUnitInterval(Constraint):
    """The grid ``{k / (num_bins - 1) : k = 0, ..., num_bins - 1}`` on [0, 1].

    This is the support of :class:`~pygen.distributions.DiscretizedLogistic` and
    :class:`~pygen.distributions.DiscretizedLogisticMixture`: 8-bit pixels ``p`` scaled
    as ``p / 255`` lie on it for ``num_bins=256``. A value passes :meth:`check` when it
    is in [0, 1] and within a small tolerance of a grid point, measured in bin widths:
    ``min(1/4, max(1e-3, 4 * eps * (num_bins - 1) * |value|))`` where ``eps`` is the
    machine epsilon of the value's dtype (a float's spacing grows with its magnitude), so
    ``k / 255`` computed in float32 or float16 passes and a point half a bin off the grid
    never does. The distance is measured in float32
    at least, so float16's coarse arithmetic near 255 does not blur it.

    A dtype whose spacing near 1 is more than a quarter of a bin cannot tell the grid
    points from the points between them (``bfloat16`` for 256 bins: its ``eps`` is
    ``2**-7``, two bins); :meth:`check` then raises ``ValueError`` rather than pass
    everything.

    Args:
        num_bins: Number of grid points, at least 2.

    Raises:
        TypeError: If ``num_bins`` is not an int.
        ValueError: If ``num_bins < 2``.

    Example:
        >>> import torch
        >>> from pygen.distributions import DiscretizedUnitInterval
        >>> grid = DiscretizedUnitInterval(num_bins=5)
        >>> grid.check(torch.tensor([0.0, 0.25, 1.0, 0.3, 1.25]))
        tensor([ True,  True,  True, False, False])
    """

    is_discrete = True
    event_dim = 0

    def __init__(self, num_bins: int) -> None:
        self.num_bins = check_count("num_bins", num_bins, 2)
        super().__init__()

    def check(self, value: Tensor) -> Tensor:
        """Return a boolean tensor: which entries of ``value`` lie on the grid.

        Args:
            value: Any floating-point tensor.

        Returns:
            A boolean tensor of ``value``'s shape.

        Raises:
            ValueError: If ``value``'s dtype cannot tell the grid points apart (its
                machine epsilon is more than a quarter of a bin, e.g. bfloat16 for 256
                bins); cast it to float32 first.
        """
        steps = self.num_bins - 1
        if value.is_floating_point():
            eps = torch.finfo(value.dtype).eps
            if 4.0 * eps * steps > 1.0:
                raise ValueError(
                    f"{self!r}.check: {value.dtype} cannot tell the {self.num_bins} grid "
                    f"points apart (its spacing near 1 is {eps:g}, more than a quarter of "
                    f"a bin, 1/{steps}); cast the value to torch.float32 first"
                )
            wide = value if torch.finfo(value.dtype).bits >= 32 else value.float()
        else:
            eps, wide = 0.0, value.double()
        # A float's spacing grows with its magnitude, so the tolerance does too.
        tolerance = (4.0 * eps * steps * wide.abs()).clamp(min=1e-3, max=0.25)
        scaled = wide * steps
        on_grid = (scaled - torch.round(scaled)).abs() <= tolerance
        return on_grid & (value >= 0) & (value <= 1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_bins={self.num_bins})"

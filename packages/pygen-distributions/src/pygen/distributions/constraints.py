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
    ``max(1e-3, 4 * eps * (num_bins - 1))`` where ``eps`` is the machine epsilon of the
    value's dtype (so ``k / 255`` computed in float32 passes).

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
        """
        steps = self.num_bins - 1
        eps = torch.finfo(value.dtype).eps if value.is_floating_point() else 0.0
        tolerance = max(1e-3, 4.0 * eps * steps)
        scaled = value * steps
        on_grid = (scaled - torch.round(scaled)).abs() <= tolerance
        return on_grid & (value >= 0) & (value <= 1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_bins={self.num_bins})"

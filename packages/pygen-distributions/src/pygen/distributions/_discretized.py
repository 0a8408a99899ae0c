r"""Shared parts of the discretized logistic distributions (private).

Both :class:`~pygen.distributions.DiscretizedLogistic` and
:class:`~pygen.distributions.DiscretizedLogisticMixture` live on the grid
``k / (num_bins - 1)`` of [0, 1]. Grid point ``k`` owns the interval of half-width
``h = 1 / (2 (num_bins - 1))`` around it; the lowest point also owns the whole left
tail and the highest the whole right tail (PixelCNN++, Salimans et al. 2017), so the
masses of all ``num_bins`` points sum to one exactly.

The mass of an interior bin is :math:`\sigma(a) - \sigma(b)` with
:math:`a = (c + h - \mu)/s` and :math:`b = (c - h - \mu)/s`. PixelCNN++ computes that
difference directly and, where it underflows, falls back to the log density at the bin
centre plus the log bin width (an approximation). We use the exact identity

.. math:: \sigma(a) - \sigma(b) = \sigma(a)\,\sigma(-b)\,\bigl(1 - e^{-(a - b)}\bigr),

so that :math:`\log` mass :math:`= \log\sigma(a) + \log\sigma(-b) + \log(1 - e^{-(a - b)})`:
three terms that are each finite, accurate and with finite gradients for every finite
``a > b`` and ``s > 0``. There is no cancellation left to underflow, so no branch on
the size of the mass is needed; the centre-density approximation is the limit of this
formula when the bin is narrow compared with ``s`` (the tests check they agree there).
``torch.where`` picks between the left tail, the right tail and the interior formula,
all three computed everywhere from clamped or finite inputs, so a branch that is not
taken contributes zero (never NaN) to the gradient.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.distributions import Distribution, constraints

from pygen.distributions.constraints import DiscretizedUnitInterval

__all__ = [
    "DiscretizedOnUnitGrid",
    "discretized_logistic_log_mass",
    "grid_index",
    "snap_to_grid",
]


def grid_index(value: Tensor, num_bins: int) -> Tensor:
    """Index (as a float tensor) of the grid point nearest to ``value``, clamped to the grid."""
    steps = num_bins - 1
    return torch.round(value * steps).clamp(0, steps)


def snap_to_grid(value: Tensor, num_bins: int) -> Tensor:
    """Map real numbers to the grid point whose bin contains them (tails to the ends)."""
    return grid_index(value, num_bins) / (num_bins - 1)


def _log1mexp(x: Tensor) -> Tensor:
    """``log(1 - exp(-x))`` for ``x > 0``, accurate for small and large ``x`` (Mächler 2012)."""
    return torch.where(
        x < math.log(2.0),
        torch.log(-torch.expm1(-x.clamp(min=torch.finfo(x.dtype).tiny))),
        torch.log1p(-torch.exp(-x.clamp(min=math.log(2.0)))),
    )


def discretized_logistic_log_mass(
    value: Tensor, loc: Tensor, scale: Tensor, num_bins: int
) -> Tensor:
    """Log probability mass of the grid bin of ``value`` under a discretized logistic.

    Args:
        value: Points on (or near: they are rounded to) the grid of [0, 1].
        loc: Logistic locations; broadcasts with ``value``.
        scale: Logistic scales (> 0); broadcasts with ``value``.
        num_bins: Number of grid points.

    Returns:
        ``log P(bin)``, shaped ``broadcast(value, loc, scale)``; finite everywhere.
    """
    steps = num_bins - 1
    index = grid_index(value, num_bins)
    inv_scale = torch.reciprocal(scale)
    # Standardised bin edges. Neighbouring bins compute their shared edge from the same
    # float expression, (k + 1/2) / steps, so it is bit-identical for both and the
    # masses telescope to one in floating point too.
    upper = ((index + 0.5) / steps - loc) * inv_scale
    lower = ((index - 0.5) / steps - loc) * inv_scale
    log_cdf_upper = F.logsigmoid(upper)  # log P(X <= upper edge): the lowest bin's mass
    log_sf_lower = F.logsigmoid(-lower)  # log P(X > lower edge): the highest bin's mass
    # upper - lower is accurate to a few ulps relative to itself (Sterbenz when the
    # edges are close, no cancellation otherwise). It is 0 only when the edges are
    # lost in rounding (|loc| >> 1); the exact width 1 / (steps * scale) stands in then.
    width = upper - lower
    width = torch.where(width > 0, width, inv_scale / steps)
    interior = log_cdf_upper + log_sf_lower + _log1mexp(width)
    return torch.where(
        index == 0, log_cdf_upper, torch.where(index == steps, log_sf_lower, interior)
    )


class DiscretizedOnUnitGrid(Distribution):
    """Base for distributions on the grid ``k / (num_bins - 1)`` of [0, 1] (private).

    Subclasses set ``num_bins`` and ``_param`` (a parameter tensor, whose dtype and
    device the grid takes) and implement ``log_prob``; this class derives the
    support, support enumeration and the moments from them exactly, by summing over
    the ``num_bins`` grid points.
    """

    has_enumerate_support = True
    num_bins: int
    _param: Tensor

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> DiscretizedUnitInterval:
        """The grid ``k / (num_bins - 1)``, ``k = 0, ..., num_bins - 1``."""
        return DiscretizedUnitInterval(self.num_bins)

    def _grid(self, dtype: torch.dtype, device: torch.device) -> Tensor:
        """Grid points shaped ``(num_bins,) + (1,) * len(batch_shape)``."""
        grid = torch.arange(self.num_bins, dtype=dtype, device=device) / (self.num_bins - 1)
        return grid.reshape((self.num_bins,) + (1,) * len(self.batch_shape))

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All grid points, shaped ``(num_bins,) + batch_shape`` (or with 1s if not ``expand``).

        Args:
            expand: Whether to expand the result over the batch dims.

        Returns:
            The grid values, in increasing order along dim 0.
        """
        grid = self._grid(self._param.dtype, self._param.device)
        if expand:
            grid = grid.expand((self.num_bins, *self.batch_shape))
        return grid

    def _grid_probs(self) -> tuple[Tensor, Tensor, Tensor]:
        """Grid values, their log-probabilities and probabilities, each ``(num_bins,) + batch``."""
        grid = self._grid(self._param.dtype, self._param.device)
        log_p = self.log_prob(grid)
        return grid, log_p, log_p.exp()

    @property
    def mean(self) -> Tensor:
        """The exact mean, summed over the grid."""
        grid, _, probs = self._grid_probs()
        return (grid * probs).sum(0)

    @property
    def mode(self) -> Tensor:
        """The most probable grid point (the lowest one on ties)."""
        _, log_p, _ = self._grid_probs()
        return log_p.argmax(0).to(log_p.dtype) / (self.num_bins - 1)

    @property
    def variance(self) -> Tensor:
        """The exact variance, summed over the grid."""
        grid, _, probs = self._grid_probs()
        mean = (grid * probs).sum(0)
        return ((grid - mean) ** 2 * probs).sum(0)

    def entropy(self) -> Tensor:
        """The exact (discrete) entropy in nats, summed over the grid.

        Returns:
            A tensor of shape ``batch_shape``.
        """
        _, log_p, probs = self._grid_probs()
        return -(probs * log_p).sum(0)

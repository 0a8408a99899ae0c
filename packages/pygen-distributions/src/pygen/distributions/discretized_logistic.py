"""The discretized logistic distribution on an even grid of [0, 1] (PixelCNN++)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor
from torch.distributions import constraints
from torch.types import _size

from pygen.distributions._discretized import (
    DiscretizedOnUnitGrid,
    discretized_logistic_log_mass,
    snap_to_grid,
)
from pygen.distributions._validation import (
    as_float_tensor,
    broadcast_params,
    check_count,
    check_value_shape,
)
from pygen.distributions.logistic import Logistic

__all__ = ["DiscretizedLogistic"]


class DiscretizedLogistic(DiscretizedOnUnitGrid):
    r"""A logistic distribution discretized onto ``num_bins`` even grid points of [0, 1].

    The likelihood of PixelCNN++ (Salimans et al. 2017) for 8-bit data scaled to
    [0, 1] (``pixel / 255`` for ``num_bins=256``). Grid point ``k / (num_bins - 1)``
    gets the logistic mass of the interval of one grid step centred on it; the lowest
    point also takes the whole left tail and the highest the whole right tail, so the
    ``num_bins`` masses sum to one exactly and ``log_prob`` is a log probability *mass*.

    ``log_prob`` is finite, with finite gradients for ``loc``, ``scale`` and every
    value, at the edges (0 and 1), for tiny scales and far-away locations; it uses an
    exact factorisation of the cdf difference instead of PixelCNN++'s
    density-at-the-centre fallback (see ``pygen.distributions._discretized``). A value
    between grid points is scored as the grid point nearest to it; with validation on
    it is refused (see :class:`~pygen.distributions.DiscretizedUnitInterval`). Mean,
    mode, variance and entropy are exact sums over the grid.

    Args:
        loc: Location of the underlying logistic (in the units of the [0, 1] data; it
            may lie outside [0, 1]). Tensor or number.
        scale: Scale of the underlying logistic, > 0; broadcasts with ``loc``.
        num_bins: Number of grid points, at least 2 (256 for 8-bit data).
        validate_args: Whether to check parameters and values against their
            constraints (``None`` uses ``torch.distributions``' global default).

    Raises:
        TypeError: If ``loc`` or ``scale`` is neither a floating-point tensor nor a
            number, or ``num_bins`` is not an int.
        ValueError: If ``loc`` and ``scale`` do not broadcast, ``num_bins < 2``, or, with
            validation on, ``scale`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import DiscretizedLogistic
        >>> d = DiscretizedLogistic(torch.full((2, 3), 0.5), torch.full((2, 3), 0.1))
        >>> d.batch_shape, d.event_shape
        (torch.Size([2, 3]), torch.Size([]))
        >>> x = d.sample((4,))
        >>> x.shape
        torch.Size([4, 2, 3])
        >>> bool(d.support.check(x).all())  # samples lie on the grid k / 255
        True
        >>> d.log_prob(x).shape
        torch.Size([4, 2, 3])
        >>> total = d.log_prob(d.enumerate_support()).exp().sum(0)  # all 256 bins
        >>> bool(torch.allclose(total, torch.ones(2, 3)))
        True
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    has_rsample = False

    def __init__(
        self,
        loc: Tensor | float,
        scale: Tensor | float,
        num_bins: int = 256,
        validate_args: bool | None = None,
    ) -> None:
        self.num_bins = check_count("num_bins", num_bins, 2)
        loc_t = as_float_tensor("loc", loc)
        scale_t = as_float_tensor("scale", scale)
        self.loc, self.scale = broadcast_params({"loc": loc_t, "scale": scale_t})
        self._param = self.loc
        super().__init__(batch_shape=self.loc.shape, validate_args=validate_args)

    def expand(
        self, batch_shape: _size, _instance: DiscretizedLogistic | None = None
    ) -> DiscretizedLogistic:
        """Return a new ``DiscretizedLogistic`` with parameters expanded to ``batch_shape``.

        Args:
            batch_shape: The new batch shape.
            _instance: Used by subclasses (``torch.distributions`` convention).

        Returns:
            The expanded distribution (parameters are views, no copy).
        """
        new = self._get_checked_instance(DiscretizedLogistic, _instance)
        batch_shape = torch.Size(batch_shape)
        new.num_bins = self.num_bins
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._param = new.loc
        super(DiscretizedLogistic, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: _size = ()) -> Tensor:
        """Draw grid values: a logistic sample, mapped to the grid point whose bin holds it.

        Args:
            sample_shape: Leading sample dims.

        Returns:
            A tensor of shape ``sample_shape + batch_shape`` with values
            ``k / (num_bins - 1)``.
        """
        with torch.no_grad():
            continuous = Logistic(self.loc, self.scale, validate_args=False).sample(sample_shape)
            return snap_to_grid(continuous, self.num_bins)

    def log_prob(self, value: Tensor) -> Tensor:
        """Log probability mass of the grid point ``value``.

        Args:
            value: Grid values ``k / (num_bins - 1)`` whose trailing dims broadcast
                with ``batch_shape``.

        Returns:
            The log mass, shaped ``broadcast(value.shape, batch_shape)``.

        Raises:
            TypeError: If ``value`` is not a tensor.
            ValueError: If ``value``'s shape does not broadcast with ``batch_shape``,
                or, with validation on, if a value is not on the grid.
        """
        check_value_shape(value, self.batch_shape, self.event_shape)
        if self._validate_args:
            self._validate_sample(value)
        return discretized_logistic_log_mass(value, self.loc, self.scale, self.num_bins)

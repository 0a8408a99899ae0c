"""A mixture of discretized logistics on an even grid of [0, 1] (PixelCNN++)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor
from torch.distributions import Categorical, constraints
from torch.types import _size

from pygen.distributions._discretized import (
    DiscretizedOnUnitGrid,
    discretized_logistic_log_mass,
    snap_to_grid,
)
from pygen.distributions._validation import (
    broadcast_params,
    check_count,
    check_value_shape,
)
from pygen.distributions.discretized_logistic import DiscretizedLogistic
from pygen.distributions.logistic import Logistic

__all__ = ["DiscretizedLogisticMixture"]


class DiscretizedLogisticMixture(DiscretizedOnUnitGrid):
    r"""A mixture of discretized logistics on ``num_bins`` even grid points of [0, 1].

    The per-pixel likelihood of PixelCNN++ (Salimans et al. 2017): with mixture
    weights :math:`\pi = \mathrm{softmax}(\text{logits})` over the last dim,

    .. math:: P(x) = \sum_j \pi_j\, P_{\mathrm{DL}}(x \mid \mu_j, s_j),

    where :math:`P_{\mathrm{DL}}` is the mass of
    :class:`~pygen.distributions.DiscretizedLogistic` (same grid, same open edge bins,
    same stable log-mass computation). ``log_prob`` is a log probability *mass* and is
    computed with a log-sum-exp, so it and its gradients stay finite for extreme
    logits, tiny scales and values at 0 and 1. The channel coupling of PixelCNN++'s
    colour model is left to the model that produces ``loc``.

    The mixture is over the last dim of the parameters: they are broadcast together
    and ``batch_shape = logits.shape[:-1]`` (after broadcasting), ``event_shape = ()``.
    Mean, mode, variance and entropy are exact sums over the grid.

    Args:
        logits: Unnormalised mixture log-weights, shape ``batch_shape + (K,)``.
        loc: Component locations, shape ``batch_shape + (K,)`` (or broadcastable).
        scale: Component scales, > 0, shape ``batch_shape + (K,)`` (or broadcastable).
        num_bins: Number of grid points, at least 2 (256 for 8-bit data).
        validate_args: Whether to check parameters and values against their
            constraints (``None`` uses ``torch.distributions``' global default).

    Raises:
        TypeError: If a parameter is not a floating-point tensor, or ``num_bins`` is
            not an int.
        ValueError: If a parameter has no dims, the parameters do not broadcast,
            ``num_bins < 2``, or, with validation on, a scale is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import DiscretizedLogisticMixture
        >>> logits = torch.zeros(4, 5)  # batch of 4 pixels, 5 components each
        >>> loc = torch.linspace(0.1, 0.9, 5).expand(4, 5)
        >>> d = DiscretizedLogisticMixture(logits, loc, torch.full((4, 5), 0.05))
        >>> d.batch_shape, d.event_shape, d.num_components
        (torch.Size([4]), torch.Size([]), 5)
        >>> x = d.sample((3,))
        >>> x.shape, d.log_prob(x).shape
        (torch.Size([3, 4]), torch.Size([3, 4]))
        >>> total = d.log_prob(d.enumerate_support()).exp().sum(0)
        >>> bool(torch.allclose(total, torch.ones(4)))
        True
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "logits": constraints.independent(constraints.real, 1),
        "loc": constraints.independent(constraints.real, 1),
        "scale": constraints.independent(constraints.positive, 1),
    }
    has_rsample = False

    def __init__(
        self,
        logits: Tensor,
        loc: Tensor,
        scale: Tensor,
        num_bins: int = 256,
        validate_args: bool | None = None,
    ) -> None:
        self.num_bins = check_count("num_bins", num_bins, 2)
        params = {"logits": logits, "loc": loc, "scale": scale}
        for name, tensor in params.items():
            if not isinstance(tensor, Tensor):
                raise TypeError(f"{name}: expected a torch.Tensor, found {type(tensor).__name__}")
            if not tensor.is_floating_point():
                raise TypeError(
                    f"{name}: expected a floating-point tensor, found dtype {tensor.dtype}"
                )
            if tensor.dim() < 1:
                raise ValueError(
                    f"{name}: expected at least one dim (the mixture components, last), "
                    f"found shape {tuple(tensor.shape)}"
                )
        logits, self.loc, self.scale = broadcast_params(params)
        self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.loc
        super().__init__(batch_shape=self.logits.shape[:-1], validate_args=validate_args)

    @property
    def num_components(self) -> int:
        """Number of mixture components ``K`` (the last dim of the parameters)."""
        return self.logits.shape[-1]

    @property
    def mixture_distribution(self) -> Categorical:
        """The mixture weights as a ``Categorical`` over the components."""
        return Categorical(logits=self.logits, validate_args=False)

    @property
    def component_distribution(self) -> DiscretizedLogistic:
        """The components, as a ``DiscretizedLogistic`` of batch ``batch_shape + (K,)``."""
        return DiscretizedLogistic(self.loc, self.scale, self.num_bins, validate_args=False)

    def expand(
        self, batch_shape: _size, _instance: DiscretizedLogisticMixture | None = None
    ) -> DiscretizedLogisticMixture:
        """Return a new mixture with parameters expanded to ``batch_shape + (K,)``.

        Args:
            batch_shape: The new batch shape.
            _instance: Used by subclasses (``torch.distributions`` convention).

        Returns:
            The expanded distribution (parameters are views, no copy).
        """
        new = self._get_checked_instance(DiscretizedLogisticMixture, _instance)
        batch_shape = torch.Size(batch_shape)
        param_shape = (*batch_shape, self.num_components)
        new.num_bins = self.num_bins
        new.logits = self.logits.expand(param_shape)
        new.loc = self.loc.expand(param_shape)
        new.scale = self.scale.expand(param_shape)
        new._param = new.loc
        super(DiscretizedLogisticMixture, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: _size = ()) -> Tensor:
        """Draw grid values: pick a component, draw from its logistic, map to the grid.

        Args:
            sample_shape: Leading sample dims.

        Returns:
            A tensor of shape ``sample_shape + batch_shape`` with values
            ``k / (num_bins - 1)``.
        """
        sample_shape = torch.Size(sample_shape)
        with torch.no_grad():
            component = self.mixture_distribution.sample(sample_shape).unsqueeze(-1)
            param_shape = sample_shape + self.logits.shape
            loc = self.loc.expand(param_shape).gather(-1, component).squeeze(-1)
            scale = self.scale.expand(param_shape).gather(-1, component).squeeze(-1)
            continuous = Logistic(loc, scale, validate_args=False).sample()
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
        component_log_mass = discretized_logistic_log_mass(
            value.unsqueeze(-1), self.loc, self.scale, self.num_bins
        )
        return torch.logsumexp(component_log_mass + self.logits, dim=-1)

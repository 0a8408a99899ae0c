"""The continuous logistic distribution."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.distributions import Distribution, constraints
from torch.types import _size

from pygen.distributions._validation import as_float_tensor, broadcast_params, check_value_shape

__all__ = ["Logistic"]


class Logistic(Distribution):
    r"""Logistic distribution with location ``loc`` and scale ``scale``.

    The density is

    .. math:: p(x) = \frac{e^{-z}}{s\,(1 + e^{-z})^2}, \qquad z = \frac{x - \mu}{s},

    and the cdf is the logistic sigmoid, :math:`F(x) = \sigma(z)`. It matches TensorFlow
    Probability's ``tfd.Logistic``. Unlike a ``TransformedDistribution`` of a uniform
    through a logit, ``log_prob`` is computed as :math:`-z - 2\,\mathrm{softplus}(-z) -
    \log s`, which stays finite (and has finite gradients) for any finite ``z``, also in
    float32 far out in the tails.

    Args:
        loc: Location :math:`\mu` (the mean, median and mode). Tensor or number.
        scale: Scale :math:`s > 0`. Tensor or number; broadcasts with ``loc``.
        validate_args: Whether to check parameters and values against their
            constraints (``None`` uses ``torch.distributions``' global default).

    Raises:
        TypeError: If ``loc`` or ``scale`` is neither a floating-point tensor nor a number.
        ValueError: If the shapes of ``loc`` and ``scale`` do not broadcast, or, with
            validation on, if ``scale`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import Logistic
        >>> d = Logistic(torch.zeros(3), torch.ones(3))
        >>> d.sample((5,)).shape
        torch.Size([5, 3])
        >>> d.log_prob(torch.zeros(3))
        tensor([-1.3863, -1.3863, -1.3863])
        >>> d.cdf(torch.zeros(3))
        tensor([0.5000, 0.5000, 0.5000])
        >>> round(float(d.entropy()[0]), 4)
        2.0
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self,
        loc: Tensor | float,
        scale: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        loc_t = as_float_tensor("loc", loc)
        scale_t = as_float_tensor("scale", scale)
        self.loc, self.scale = broadcast_params({"loc": loc_t, "scale": scale_t})
        super().__init__(batch_shape=self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: _size, _instance: Logistic | None = None) -> Logistic:
        """Return a new ``Logistic`` with parameters expanded to ``batch_shape``.

        Args:
            batch_shape: The new batch shape.
            _instance: Used by subclasses (``torch.distributions`` convention).

        Returns:
            The expanded distribution (parameters are views, no copy).
        """
        new = self._get_checked_instance(Logistic, _instance)
        batch_shape = torch.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        super(Logistic, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """The mean, ``loc``."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        """The mode, ``loc``."""
        return self.loc

    @property
    def variance(self) -> Tensor:
        r"""The variance, :math:`s^2 \pi^2 / 3`."""
        return self.scale.pow(2) * (math.pi**2 / 3)

    @property
    def stddev(self) -> Tensor:
        r"""The standard deviation, :math:`s \pi / \sqrt{3}`."""
        return self.scale * (math.pi / math.sqrt(3))

    def rsample(self, sample_shape: _size = ()) -> Tensor:
        """Draw a reparameterised sample ``loc + scale * logit(u)``, ``u ~ U(0, 1)``.

        Args:
            sample_shape: Leading sample dims.

        Returns:
            A tensor of shape ``sample_shape + batch_shape``.
        """
        shape = self._extended_shape(sample_shape)
        finfo = torch.finfo(self.loc.dtype)
        u = torch.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        u = u.clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        return self.loc + self.scale * (torch.log(u) - torch.log1p(-u))

    def log_prob(self, value: Tensor) -> Tensor:
        """Log density of ``value``.

        Args:
            value: Points whose trailing dims broadcast with ``batch_shape``.

        Returns:
            The log density, shaped ``broadcast(value.shape, batch_shape)``.

        Raises:
            TypeError: If ``value`` is not a tensor.
            ValueError: If ``value``'s shape does not broadcast with ``batch_shape``.
        """
        check_value_shape(value, self.batch_shape, self.event_shape)
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -z - 2.0 * F.softplus(-z) - torch.log(self.scale)

    def cdf(self, value: Tensor) -> Tensor:
        """Cumulative distribution function, ``sigmoid((value - loc) / scale)``.

        Args:
            value: Points whose trailing dims broadcast with ``batch_shape``.

        Returns:
            The cdf, shaped ``broadcast(value.shape, batch_shape)``.

        Raises:
            TypeError: If ``value`` is not a tensor.
            ValueError: If ``value``'s shape does not broadcast with ``batch_shape``.
        """
        check_value_shape(value, self.batch_shape, self.event_shape)
        if self._validate_args:
            self._validate_sample(value)
        return torch.sigmoid((value - self.loc) / self.scale)

    def icdf(self, value: Tensor) -> Tensor:
        """Inverse cdf (quantile function), ``loc + scale * logit(value)``.

        Args:
            value: Probabilities in [0, 1] whose trailing dims broadcast with
                ``batch_shape``. 0 and 1 map to -inf and +inf.

        Returns:
            The quantiles, shaped ``broadcast(value.shape, batch_shape)``.

        Raises:
            TypeError: If ``value`` is not a tensor.
            ValueError: If ``value``'s shape does not broadcast with ``batch_shape``,
                or, with validation on, if a value lies outside [0, 1].
        """
        check_value_shape(value, self.batch_shape, self.event_shape)
        if self._validate_args and not bool(constraints.unit_interval.check(value).all()):
            raise ValueError(
                "value: expected probabilities in [0, 1], found values in "
                f"[{float(value.min())}, {float(value.max())}]"
            )
        return self.loc + self.scale * torch.logit(value)

    def entropy(self) -> Tensor:
        """Differential entropy in nats, ``log(scale) + 2``.

        Returns:
            A tensor of shape ``batch_shape``.
        """
        return torch.log(self.scale) + 2.0

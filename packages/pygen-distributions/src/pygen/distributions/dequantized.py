r"""A continuous density on ``[0, 1]^D`` turned into a model of discrete images, with bounds.

:class:`Dequantized` pairs a continuous model (e.g. :class:`~pygen.distributions.Glow`)
with a dequantization (:class:`~pygen.distributions.UniformDequantization` or
:class:`~pygen.distributions.VariationalDequantization`). It has no ``log_prob``: the
discrete likelihood is not computed exactly, only bounded from below,

.. math:: \log P(x) \ge \mathrm{elbo}(x) = \mathbb{E}_{q(y|x)}[\log p(y) - \log q(y | x)]
   \qquad \log P(x) \ge \mathrm{iwae}_k(x) \ge \mathrm{elbo}(x),

and :class:`~pygen.distributions.DequantizedObjective` trains and reports them as
``elbo`` and ``iwae_<k>``, the names ``pygen.train`` classifies as bounds, so the trainer
derives ``elbo_bits_per_dim`` (an upper bound on the discrete data's bits per dimension)
and never a ``log_prob`` or plain ``bits_per_dim``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from pygen.distributions._validation import check_count, check_sample_shape

__all__ = ["Dequantized"]


class Dequantized(nn.Module):
    """A discrete-image model from a continuous ``model`` and a ``dequantization``.

    Args:
        model: A module with ``log_prob(y)`` over ``[..., *event_shape]`` (and
            ``event_shape``; ``sample(sample_shape)`` for :meth:`sample`), e.g.
            :class:`~pygen.distributions.Glow`.
        dequantization: :class:`~pygen.distributions.UniformDequantization` or
            :class:`~pygen.distributions.VariationalDequantization` (anything called as
            ``dequantization(x, event_ndims, generator) -> (y, log_q)``).

    Raises:
        TypeError: If ``model`` has no ``log_prob``/``event_shape`` or
            ``dequantization`` has no ``num_bins``.

    Example:
        >>> import torch
        >>> from pygen.distributions import Dequantized, Glow, UniformDequantization
        >>> _ = torch.manual_seed(0)
        >>> model = Dequantized(Glow([1, 4, 4], num_levels=1, num_steps=1), UniformDequantization())
        >>> x = torch.randint(0, 256, (5, 1, 4, 4)) / 255  # 8-bit levels p / 255
        >>> model.elbo(x).shape, model.iwae(x, k=4).shape
        (torch.Size([5]), torch.Size([5]))
        >>> samples = model.sample((2,))  # on the data grid
        >>> samples.shape, bool(((samples * 255).round() == samples * 255).all())
        (torch.Size([2, 1, 4, 4]), True)
    """

    def __init__(self, model: nn.Module, dequantization: nn.Module) -> None:
        super().__init__()
        if not callable(getattr(model, "log_prob", None)) or not hasattr(model, "event_shape"):
            raise TypeError(
                "Dequantized: model: expected a module with log_prob and event_shape, found "
                f"{type(model).__name__}"
            )
        if not isinstance(getattr(dequantization, "num_bins", None), int):
            raise TypeError(
                "Dequantized: dequantization: expected UniformDequantization or "
                f"VariationalDequantization (with num_bins), found {type(dequantization).__name__}"
            )
        self.model = model
        self.dequantization = dequantization
        self.event_shape = torch.Size(model.event_shape)
        self.batch_shape = torch.Size()
        self.num_bins = dequantization.num_bins

    def _log_weights(
        self, x: Tensor, condition: Tensor | None, generator: torch.Generator | None
    ) -> Tensor:
        y, log_q = self.dequantization(x, len(self.event_shape), generator)
        if condition is None:
            return self.model.log_prob(y) - log_q
        return self.model.log_prob(y, condition) - log_q

    def elbo(
        self,
        x: Tensor,
        condition: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """One-sample estimate of the ELBO on ``log P(x)`` in nats, per image.

        Raises:
            ValueError: If ``x`` is off the data grid or misshapen (from the parts).
        """
        return self._log_weights(x, condition, generator)

    def iwae(
        self,
        x: Tensor,
        k: int,
        condition: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """The importance-weighted bound with ``k`` dequantization samples, per image."""
        k = check_count("k", k, 1)
        weights = torch.stack([self._log_weights(x, condition, generator) for _ in range(k)])
        return torch.logsumexp(weights, 0) - math.log(k)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Same as :meth:`elbo`."""
        return self.elbo(x, condition)

    def sample(
        self, sample_shape: Sequence[int] = (), condition: Tensor | None = None, **kwargs: object
    ) -> Tensor:
        """Discrete samples: the model's continuous samples, quantized to their bin's level.

        Returns:
            Values ``k / (num_bins - 1)`` shaped ``sample_shape + event_shape``.
        """
        sample_shape = check_sample_shape(sample_shape)
        if condition is None:
            y = self.model.sample(sample_shape, **kwargs)
        else:
            y = self.model.sample(sample_shape, condition, **kwargs)
        levels = torch.floor(y * self.num_bins).clamp(0, self.num_bins - 1)
        return levels / (self.num_bins - 1)

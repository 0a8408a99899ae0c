"""DenseLocalReparameterization: sample the pre-activations, not the weights."""

from __future__ import annotations

import torch
from torch.nn import functional

from pygen.layers._params import describe
from pygen.layers._variational import Factory, normal_parts
from pygen.layers.dense_reparameterization import DenseReparameterization
from pygen.layers.mean_field_normal import MeanFieldNormal
from pygen.layers.standard_normal_prior import StandardNormalPrior

__all__ = ["DenseLocalReparameterization"]


class DenseLocalReparameterization(DenseReparameterization):
    """A variational linear layer drawing each example's output, not one weight.

    For a mean-field normal posterior ``W_ij ~ Normal(mu_ij, sigma_ij)`` the output
    ``y = x W^T + b`` is normal given ``x``, with mean ``x mu^T + b`` and variance
    ``x^2 (sigma^2)^T``; the layer draws ``y`` from it, independently per example
    (Kingma et al. 2015, "local reparameterization"; TFP's
    ``DenseLocalReparameterization``). Same distribution per example as
    :class:`DenseReparameterization`, lower gradient variance. The posterior must
    therefore be a ``Normal`` (or an ``Independent`` of one); arguments, KL and other
    errors are those of :class:`DenseReparameterization`.

    Raises:
        TypeError: If the posterior is not a Normal (checked at construction).

    Example:
        >>> import torch
        >>> from pygen.layers import DenseLocalReparameterization
        >>> layer = DenseLocalReparameterization(3, 2)
        >>> layer(torch.randn(5, 3)).shape
        torch.Size([5, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        make_posterior: Factory = MeanFieldNormal,
        make_prior: Factory = StandardNormalPrior,
        kl_weight: float = 1.0,
        kl_use_exact: bool = True,
    ) -> None:
        super().__init__(
            in_features,
            out_features,
            bias,
            make_posterior=make_posterior,
            make_prior=make_prior,
            kl_weight=kl_weight,
            kl_use_exact=kl_use_exact,
        )
        normal_parts(describe(self), self._posterior())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """A draw of ``y ~ Normal(x mu^T + b, x^2 (sigma^2)^T)`` per example.

        Args:
            x: Input of shape ``[*batch, in_features]``.

        Returns:
            Output of shape ``[*batch, out_features]``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x``'s last dimension is not ``in_features``.
        """
        x = self._checked_input(x)
        loc, scale = normal_parts(describe(self), self._posterior())
        mean = functional.linear(x, loc, self.bias)
        variance = functional.linear(x * x, scale * scale)
        return mean + variance.clamp_min(1e-30).sqrt() * torch.randn_like(mean)

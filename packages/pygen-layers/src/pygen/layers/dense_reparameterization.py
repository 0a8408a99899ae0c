"""DenseReparameterization: a linear layer whose weight is drawn from its posterior."""

from __future__ import annotations

import torch
from torch.nn import functional

from pygen.layers._params import check_positive_int, describe
from pygen.layers._variational import Factory, WeightPosteriorLayer, check_input
from pygen.layers.mean_field_normal import MeanFieldNormal
from pygen.layers.standard_normal_prior import StandardNormalPrior

__all__ = ["DenseReparameterization"]


class DenseReparameterization(WeightPosteriorLayer):
    """``y = x W^T + b`` with one weight ``W ~ q(W)`` drawn per call (TFP's layer).

    The weight (PyTorch's layout, ``[out_features, in_features]``) is drawn from its
    posterior by the reparameterization trick, once per call and shared by the whole
    batch, so gradients reach the posterior's parameters. The bias is a point estimate
    (no prior), as in TFP. The KL term is :meth:`kl_divergence`, collected by
    :class:`~pygen.layers.VariationalObjective`; nothing is added to a hidden loss.

    Args:
        in_features: Size of the input's last dimension.
        out_features: Size of the output's last dimension.
        bias: Whether to add a (point-estimate) bias.
        make_posterior: ``make_posterior(shape)`` returns a callable (an ``nn.Module``
            is registered) whose call with no arguments returns a reparameterizable
            distribution over a tensor of ``shape``. Default: :class:`MeanFieldNormal`.
        make_prior: Likewise for the prior. Default: :class:`StandardNormalPrior`.
        kl_weight: The KL's weight in the objective (1: the ELBO; the objective
            divides by the number of training examples itself).
        kl_use_exact: Use the analytic KL where torch registers one for the pair.

    Raises:
        TypeError: If an argument has the wrong type or a factory's distribution is not
            a ``torch.distributions.Distribution``.
        ValueError: If a size is not positive or a factory's distribution is not over a
            tensor of the weight's shape.

    Example:
        >>> import torch
        >>> from pygen.layers import DenseReparameterization
        >>> layer = DenseReparameterization(3, 2)
        >>> x = torch.randn(5, 3)
        >>> layer(x).shape, bool((layer(x) != layer(x)).any())  # a new weight per call
        (torch.Size([5, 2]), True)
        >>> layer.kl_is_exact, layer.kl_divergence().shape
        (True, torch.Size([]))
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
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        super().__init__(
            (out_features, in_features),
            out_features if bias else None,
            make_posterior,
            make_prior,
            kl_weight,
            kl_use_exact,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )

    def _checked_input(self, x: object) -> torch.Tensor:
        return check_input(
            describe(self),
            x,
            f"[*batch, {self.in_features}] (in_features={self.in_features})",
            lambda t: t.dim() >= 1 and t.shape[-1] == self.in_features,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x W^T + b`` with a fresh ``W ~ q``.

        Args:
            x: Input of shape ``[*batch, in_features]``.

        Returns:
            Output of shape ``[*batch, out_features]``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x``'s last dimension is not ``in_features``.
        """
        x = self._checked_input(x)
        return functional.linear(x, self._posterior().rsample(), self.bias)

"""DenseVariational: a linear layer with any posterior and prior over its weights (TFP's)."""

from __future__ import annotations

import torch
from torch.distributions import Distribution
from torch.nn import functional

from pygen.layers._params import check_positive_int, describe
from pygen.layers._variational import (
    Factory,
    VariationalLayer,
    check_factory,
    check_input,
    checked_distribution,
)

__all__ = ["DenseVariational"]


class DenseVariational(VariationalLayer):
    """``y = x W^T + b`` with ``(W, b)`` drawn from a posterior the user makes (TFP's).

    As ``tfp.layers.DenseVariational``: ``make_posterior(kernel_size, bias_size, dtype)``
    and ``make_prior(kernel_size, bias_size, dtype)`` each return a callable (usually an
    ``nn.Module`` such as ``nn.Sequential(VariableLayer(...), DistributionLambda(...))``;
    a module is registered, so its parameters train) that, called with the layer's
    input, returns a distribution over the flat vector of all
    ``n = kernel_size + bias_size`` weights. The vector is read as the weight
    ``W = w[:kernel_size].reshape(out_features, in_features)`` (PyTorch's layout, not
    TFP's ``[in, out]``), then the bias ``b = w[kernel_size:]``. One vector is drawn per
    call (reparameterised), shared by the batch. :meth:`kl_divergence` calls the two
    callables with an empty batch ``[0, in_features]``, so they should ignore their
    input, as ``VariableLayer`` does.

    Args:
        in_features: Size of the input's last dimension.
        out_features: Size of the output's last dimension (TFP's ``units``).
        make_posterior: The posterior's factory, as above; the distribution must be
            reparameterizable.
        make_prior: The prior's factory, as above.
        kl_weight: The KL's weight in the objective (TFP's ``kl_weight``; 1 gives the
            ELBO, the objective divides by the number of training examples itself).
        kl_use_exact: Use the analytic KL where torch registers one for the pair
            (:attr:`kl_is_exact` says whether it does); else one Monte Carlo draw.
        bias: Whether the weights include a bias (TFP's ``use_bias``).

    Raises:
        TypeError: If a factory or its result is not callable, or its distribution is
            not a ``torch.distributions.Distribution``.
        ValueError: If a size is not positive, a distribution is not over ``n`` numbers
            or the posterior cannot be reparameterised.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from torch.distributions import Independent, Normal
        >>> from pygen.layers import DenseVariational, DistributionLambda, VariableLayer
        >>> def posterior(kernel_size, bias_size, dtype):
        ...     n = kernel_size + bias_size
        ...     return nn.Sequential(
        ...         VariableLayer(2 * n, dtype=dtype),
        ...         DistributionLambda(
        ...             lambda t: Independent(
        ...                 Normal(t[:n], 1e-5 + nn.functional.softplus(t[n:])), 1
        ...             )
        ...         ),
        ...     )
        >>> def prior(kernel_size, bias_size, dtype):
        ...     n = kernel_size + bias_size
        ...     return nn.Sequential(
        ...         VariableLayer(n, dtype=dtype),
        ...         DistributionLambda(lambda t: Independent(Normal(t, 1.0), 1)),
        ...     )
        >>> layer = DenseVariational(3, 2, posterior, prior, kl_weight=1.0)
        >>> layer(torch.randn(5, 3)).shape, layer.kl_is_exact
        (torch.Size([5, 2]), False)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        make_posterior: Factory,
        make_prior: Factory,
        kl_weight: float = 1.0,
        kl_use_exact: bool = False,
        bias: bool = True,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        check_factory(owner, "make_posterior", make_posterior)
        check_factory(owner, "make_prior", make_prior)
        self.kernel_size = in_features * out_features
        self.bias_size = out_features if bias else 0
        self.use_bias = bool(bias)
        dtype = torch.get_default_dtype()
        self.posterior = make_posterior(self.kernel_size, self.bias_size, dtype)
        self.prior = make_prior(self.kernel_size, self.bias_size, dtype)
        check_factory(owner, "make_posterior(...)'s result", self.posterior)
        check_factory(owner, "make_prior(...)'s result", self.prior)
        self._setup_kl(kl_weight, kl_use_exact)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.use_bias}"
        )

    def _distribution(self, role: str, x: torch.Tensor) -> Distribution:
        factory = self.posterior if role == "posterior" else self.prior
        return checked_distribution(
            describe(self),
            f"{role} (make_{role}({self.kernel_size}, {self.bias_size}, dtype))",
            factory(x),
            torch.Size([self.kernel_size + self.bias_size]),
            reparameterized=role == "posterior",
        )

    def _empty_input(self) -> torch.Tensor:
        reference = next(self.parameters(), None)
        if reference is None:
            return torch.zeros(0, self.in_features)
        return reference.new_zeros(0, self.in_features)

    def _posterior_and_prior(self) -> tuple[Distribution, Distribution]:
        x = self._empty_input()
        return self._distribution("posterior", x), self._distribution("prior", x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x W^T + b`` with a fresh ``(W, b) ~ q``.

        Args:
            x: Input of shape ``[*batch, in_features]``.

        Returns:
            Output of shape ``[*batch, out_features]``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x``'s last dimension is not ``in_features``, or the
                posterior is not over ``kernel_size + bias_size`` numbers.
        """
        x = check_input(
            describe(self),
            x,
            f"[*batch, {self.in_features}] (in_features={self.in_features})",
            lambda t: t.dim() >= 1 and t.shape[-1] == self.in_features,
        )
        w = self._distribution("posterior", x).rsample()
        weight = w[: self.kernel_size].reshape(self.out_features, self.in_features)
        bias = w[self.kernel_size :] if self.use_bias else None
        return functional.linear(x, weight, bias)

"""DenseFlipout: a linear layer with Flipout weight perturbations (Wen et al., 2018)."""

from __future__ import annotations

import torch
from torch.nn import functional

from pygen.layers._variational import rademacher
from pygen.layers.dense_reparameterization import DenseReparameterization

__all__ = ["DenseFlipout"]


class DenseFlipout(DenseReparameterization):
    """A variational linear layer whose examples see decorrelated weight draws.

    One perturbation ``D = W - E[W]``, ``W ~ q``, is drawn per call; example ``n`` uses
    ``E[W] + D * (s_n r_n^T)`` with independent random signs ``s_n`` (outputs) and
    ``r_n`` (inputs), computed as ``x E[W]^T + ((x * r) D^T) * s + b``. For a posterior
    whose perturbation is symmetric (the default mean-field normal, any Normal), every
    example's weight still has the posterior's distribution, so the expected output is
    that of :class:`DenseReparameterization`, while the examples of a batch no longer
    share one draw: the gradient's variance falls (Flipout, Wen et al. 2018; TFP's
    ``DenseFlipout``). Arguments, KL and errors are those of
    :class:`DenseReparameterization`.

    Example:
        >>> import torch
        >>> from pygen.layers import DenseFlipout
        >>> layer = DenseFlipout(3, 2)
        >>> layer(torch.randn(5, 3)).shape
        torch.Size([5, 2])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x E[W]^T + ((x * r) D^T) * s + b`` with fresh ``D`` and signs.

        Args:
            x: Input of shape ``[*batch, in_features]``.

        Returns:
            Output of shape ``[*batch, out_features]``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x``'s last dimension is not ``in_features``.
        """
        x = self._checked_input(x)
        q = self._posterior()
        mean = q.mean
        perturbation = q.rsample() - mean
        signs_in = rademacher(x.shape, x)
        signs_out = rademacher((*x.shape[:-1], self.out_features), x)
        centre = functional.linear(x, mean, self.bias)
        return centre + functional.linear(x * signs_in, perturbation) * signs_out

"""IWAE-k as an evaluation (or training) objective, beside the ELBO and its terms.

A plain callable in the shape ``pygen.train``'s ``objective=`` argument takes: it returns
the per-example IWAE-k bound and the metrics ``iwae_<k>``, ``elbo``, ``reconstruction``
and ``kl``, each named for what it is (bounds, never ``log_prob``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from pygen.distributions._validation import check_count

__all__ = ["IWAEObjective"]


class IWAEObjective:
    """The importance-weighted bound IWAE-k of a VAE per example, and its ELBO.

    Called with ``(model, batch)``, where ``batch[0]`` is the data and ``model`` a
    :class:`~pygen.distributions.VAE`, it returns ``(iwae, metrics)``: ``iwae`` is
    ``model.iwae(batch[0], k)`` (shape ``[batch]``, nats, evaluated in chunks of
    ``chunk_size`` samples so ``k = 5000`` fits in memory, with gradients too: each chunk
    is then recomputed in the backward pass) and ``metrics`` holds it as
    ``iwae_<k>`` (e.g. ``iwae_5000``), with the one-sample ELBO and its terms (``elbo``,
    ``reconstruction``, ``kl``; exact discrete samples, never the relaxation, since the
    model is evaluated in evaluation mode). Both are lower bounds on ``log p(x)``; IWAE-k
    is the tighter. Use it for validation; as a training objective it is the IWAE of
    Burda et al. (2016) (gradients flow where q(z|x) is reparameterisable).

    Args:
        k: Importance samples per example.
        chunk_size: Samples per decoder call (None: the VAE's ``chunk_size``).
        with_elbo: Also report the ELBO and its terms.

    Raises:
        TypeError: If ``k`` or ``chunk_size`` is not an int.
        ValueError: If ``k`` or ``chunk_size`` is below 1.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from torch.distributions import Independent, Normal
        >>> from pygen.distributions import VAE, IWAEObjective
        >>> class Gaussian(nn.Module):
        ...     def forward(self, params):
        ...         loc, raw_scale = params.chunk(2, dim=-1)
        ...         return Independent(Normal(loc, nn.functional.softplus(raw_scale)), 1)
        >>> vae = VAE(
        ...     nn.Sequential(nn.Linear(4, 4), Gaussian()),
        ...     nn.Sequential(nn.Linear(2, 8), Gaussian()),
        ...     Independent(Normal(torch.zeros(2), torch.ones(2)), 1),
        ... )
        >>> iwae, metrics = IWAEObjective(k=500, chunk_size=128)(vae, (torch.randn(3, 4),))
        >>> iwae.shape, sorted(metrics)
        (torch.Size([3]), ['elbo', 'iwae_500', 'kl', 'reconstruction'])
    """

    def __init__(self, k: int = 5000, *, chunk_size: int | None = None, with_elbo: bool = True):
        self.k = check_count("k", k, 1)
        self.chunk_size = None if chunk_size is None else check_count("chunk_size", chunk_size, 1)
        if not isinstance(with_elbo, bool):
            raise TypeError(f"with_elbo: expected a bool, found {type(with_elbo).__name__}")
        self.with_elbo = with_elbo

    @property
    def name(self) -> str:
        """The metric name of the bound, ``iwae_<k>``."""
        return f"iwae_{self.k}"

    def __repr__(self) -> str:
        return f"IWAEObjective(k={self.k}, chunk_size={self.chunk_size})"

    def __call__(self, model: Any, batch: Sequence[Any]) -> tuple[Tensor, dict[str, Tensor]]:
        x = batch[0]
        iwae = model.iwae(x, self.k, chunk_size=self.chunk_size)
        metrics = {self.name: iwae}
        if self.with_elbo:
            terms = model.elbo(x, relaxed=False)
            metrics.update(elbo=terms.elbo, reconstruction=terms.reconstruction, kl=terms.kl)
        return iwae, metrics

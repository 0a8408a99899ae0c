"""The ELBO as a training objective: ``(model, batch) -> (per-example objective, metrics)``.

A plain callable in the shape ``pygen.train``'s ``objective=`` argument takes (this
package does not import the trainer): it returns the per-example value to maximise and a
dict of per-example metrics whose names say what each number is (``elbo`` is a bound,
never ``log_prob``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from pygen.distributions._validation import check_count

__all__ = ["ELBOObjective"]


class ELBOObjective:
    """Maximise a VAE's ELBO (``reconstruction - beta * kl``); report its terms.

    Called with ``(model, batch)``, where ``batch[0]`` is the data and ``model`` a
    :class:`~pygen.distributions.VAE` (or any module whose ``forward(x, num_samples=...,
    relaxed=...)`` returns :class:`~pygen.distributions.ELBOTerms`, e.g. a
    DistributedDataParallel wrapper of one), it returns ``(objective, metrics)``, each
    value of shape ``[batch]``:

    - ``objective``: ``reconstruction - beta * kl`` (the ELBO when ``beta == 1``), the
      value to maximise. While a discrete posterior is relaxed (training mode) it is the
      relaxed surrogate, which is not a bound on the discrete model's likelihood.
    - ``metrics["elbo"]``, ``metrics["reconstruction"]``, ``metrics["kl"]``: the ELBO (a
      lower bound on ``log p(x)``, in nats) and its terms, detached. For a relaxed
      posterior they come from a second, gradient-free pass with exact discrete samples,
      so ``elbo`` is always a bound, and training and validation report the same names.

    Args:
        num_samples: Samples of ``z`` per example (``VAE.elbo``'s ``num_samples``).

    Raises:
        TypeError: If ``num_samples`` is not an int.
        ValueError: If ``num_samples < 1``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from torch.distributions import Bernoulli, Independent, Normal
        >>> from pygen.distributions import VAE, ELBOObjective
        >>> class Gaussian(nn.Module):
        ...     def forward(self, params):
        ...         loc, raw_scale = params.chunk(2, dim=-1)
        ...         return Independent(Normal(loc, nn.functional.softplus(raw_scale)), 1)
        >>> class Bernoullis(nn.Module):
        ...     def forward(self, logits):
        ...         return Independent(Bernoulli(logits=logits), 1)
        >>> vae = VAE(
        ...     nn.Sequential(nn.Linear(6, 4), Gaussian()),
        ...     nn.Sequential(nn.Linear(2, 6), Bernoullis()),
        ...     Independent(Normal(torch.zeros(2), torch.ones(2)), 1),
        ... )
        >>> batch = ((torch.rand(5, 6) > 0.5).float(),)
        >>> objective, metrics = ELBOObjective()(vae, batch)
        >>> objective.shape, sorted(metrics)
        (torch.Size([5]), ['elbo', 'kl', 'reconstruction'])
        >>> torch.allclose(metrics["elbo"], metrics["reconstruction"] - metrics["kl"])
        True
    """

    def __init__(self, num_samples: int = 1) -> None:
        self.num_samples = check_count("num_samples", num_samples, 1)

    def __repr__(self) -> str:
        return f"ELBOObjective(num_samples={self.num_samples})"

    def __call__(self, model: Any, batch: Sequence[Any]) -> tuple[Tensor, dict[str, Tensor]]:
        x = batch[0]
        terms = model(x, num_samples=self.num_samples)
        reported = terms
        if terms.relaxed:
            with torch.no_grad():
                reported = model(x, num_samples=self.num_samples, relaxed=False)
        metrics = {
            "elbo": reported.elbo.detach(),
            "reconstruction": reported.reconstruction.detach(),
            "kl": reported.kl.detach(),
        }
        return terms.objective, metrics

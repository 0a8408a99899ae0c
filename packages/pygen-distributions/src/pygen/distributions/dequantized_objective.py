"""Train and report a :class:`~pygen.distributions.Dequantized` model under bound names.

A plain callable in the shape ``pygen.train``'s ``objective=`` argument takes (this
package does not import the trainer): ``(model, batch) -> (per-example value,
{name: per-example metric})``. The names are ``elbo`` and ``iwae_<k>``, which
``pygen.train.metric_names`` classifies as bounds, so the trainer derives
``elbo_bits_per_dim`` / ``iwae_<k>_bits_per_dim``: upper bounds on the discrete data's
bits per dimension, never called ``log_prob`` or ``bits_per_dim``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from pygen.distributions._validation import check_count

__all__ = ["DequantizedObjective"]


class DequantizedObjective:
    """Maximise (or evaluate) a dequantized model's lower bound on ``log P(x)``.

    Called with ``(model, batch)``, ``batch[0]`` the images on the data grid (and
    ``batch[1]`` a condition when ``conditional=True``), it returns ``(bound, metrics)``,
    each of shape ``[batch]``: with ``k == 1`` the one-sample ELBO, reported as
    ``metrics["elbo"]``; with ``k > 1`` the importance-weighted bound, as
    ``metrics["iwae_<k>"]``. Uniform dequantization's ELBO is the standard flow figure
    ``log p(y) - D log K``.

    Args:
        k: Dequantization samples per image (1: ELBO, the training objective).
        conditional: Pass ``batch[1]`` as the model's condition.

    Raises:
        TypeError: If ``k`` is not an int.
        ValueError: If ``k < 1``.

    Example:
        >>> import torch
        >>> from pygen.distributions import (
        ...     Dequantized,
        ...     DequantizedObjective,
        ...     Glow,
        ...     UniformDequantization,
        ... )
        >>> model = Dequantized(Glow([1, 4, 4], num_levels=1, num_steps=1), UniformDequantization())
        >>> batch = (torch.randint(0, 256, (6, 1, 4, 4)) / 255,)
        >>> value, metrics = DequantizedObjective()(model, batch)
        >>> value.shape, sorted(metrics)
        (torch.Size([6]), ['elbo'])
        >>> sorted(DequantizedObjective(k=8)(model, batch)[1])
        ['iwae_8']
    """

    def __init__(self, k: int = 1, *, conditional: bool = False) -> None:
        self.k = check_count("k", k, 1)
        if not isinstance(conditional, bool):
            raise TypeError(f"conditional: expected a bool, found {type(conditional).__name__}")
        self.conditional = conditional

    @property
    def name(self) -> str:
        """The metric name of the bound: ``elbo`` or ``iwae_<k>``."""
        return "elbo" if self.k == 1 else f"iwae_{self.k}"

    def __repr__(self) -> str:
        return f"DequantizedObjective(k={self.k}, conditional={self.conditional})"

    def __call__(self, model: Any, batch: Sequence[Any]) -> tuple[Tensor, dict[str, Tensor]]:
        x = batch[0]
        condition = batch[1] if self.conditional else None
        module = getattr(model, "module", model)  # a DistributedDataParallel wrapper
        if self.k == 1:
            bound = model(x, condition) if module is not model else module.elbo(x, condition)
        else:
            bound = module.iwae(x, self.k, condition)
        return bound, {self.name: bound.detach()}

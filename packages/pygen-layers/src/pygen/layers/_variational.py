"""What the variational (Bayesian) layers share (private).

A variational layer holds a posterior ``q(w)`` and a prior ``p(w)`` over its weights,
each made by a factory the user may replace, and answers :meth:`kl_divergence`: the
analytic ``KL(q || p)`` where ``kl_use_exact`` is set and torch registers one for the
pair, else a Monte Carlo estimate ``mean_s [log q(w_s) - log p(w_s)]`` with
``w_s ~ q`` reparameterised (so its gradient flows). The layer never adds its KL to a
hidden loss: :class:`~pygen.layers.VariationalObjective` collects it from every module
that has ``kl_divergence()`` and ``kl_weight``.

The checks here turn a factory that returns the wrong thing into an error naming the
expected and actual shapes, at construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal, kl_divergence

from pygen.layers._params import describe

__all__ = [
    "Factory",
    "VariationalLayer",
    "WeightPosteriorLayer",
    "check_factory",
    "check_input",
    "checked_distribution",
    "normal_parts",
    "rademacher",
]

Factory = Callable[..., Any]


def check_factory(owner: str, name: str, factory: object) -> None:
    if not callable(factory):
        raise TypeError(f"{owner}: {name} must be callable, got {type(factory).__name__}")


def _check_kl_weight(owner: str, kl_weight: object) -> float:
    if isinstance(kl_weight, bool) or not isinstance(kl_weight, (int, float)):
        raise TypeError(f"{owner}: kl_weight must be a number, got {type(kl_weight).__name__}")
    if not (math.isfinite(kl_weight) and kl_weight >= 0):
        raise ValueError(f"{owner}: kl_weight must be a finite number >= 0, got {kl_weight}")
    return float(kl_weight)


def checked_distribution(
    owner: str, role: str, result: object, shape: torch.Size, *, reparameterized: bool
) -> Distribution:
    """Check a factory's module returned a distribution over a tensor of ``shape``."""
    if not isinstance(result, Distribution):
        raise TypeError(
            f"{owner}: the {role} must return a torch.distributions.Distribution, got "
            f"{type(result).__name__}"
        )
    covered = result.batch_shape + result.event_shape
    if covered != shape:
        raise ValueError(
            f"{owner}: the {role} must be a distribution over a tensor of shape "
            f"{list(shape)}, got batch_shape {list(result.batch_shape)} + event_shape "
            f"{list(result.event_shape)} = {list(covered)}"
        )
    if reparameterized and not result.has_rsample:
        raise ValueError(
            f"{owner}: the {role} must be reparameterizable (has_rsample), got "
            f"{type(result).__name__} without rsample"
        )
    return result


def normal_parts(owner: str, q: Distribution) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loc, scale)`` of a (possibly ``Independent``-wrapped) ``Normal`` posterior."""
    base = q
    while isinstance(base, Independent):
        base = base.base_dist
    if not isinstance(base, Normal):
        raise TypeError(
            f"{owner}: the local reparameterization needs a Normal posterior (or an "
            f"Independent of one), got {type(q).__name__} of {type(base).__name__}"
        )
    shape = q.batch_shape + q.event_shape
    return base.loc.expand(shape), base.scale.expand(shape)


def check_input(
    owner: str, x: object, expected: str, matches: Callable[[torch.Tensor], bool]
) -> torch.Tensor:
    """Check ``x`` is a floating-point tensor of the ``expected`` shape, else raise."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{owner}: input must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{owner}: input must be a floating-point tensor, got dtype {x.dtype}")
    if not matches(x):
        raise ValueError(f"{owner}: input must have shape {expected}, got {list(x.shape)}")
    return x


def rademacher(shape: Sequence[int], like: torch.Tensor) -> torch.Tensor:
    """Independent random signs (+1 or -1, each with probability 1/2) of ``shape``."""
    signs = torch.randint(0, 2, tuple(shape), device=like.device)
    return (2 * signs - 1).to(like.dtype)


def _exact_available(q: Distribution, p: Distribution) -> bool:
    try:
        kl_divergence(q, p)
    except NotImplementedError:
        return False
    return True


class VariationalLayer(nn.Module):
    """Base of the layers with a posterior and a prior over their weights.

    Subclasses call :meth:`_setup_kl` once the posterior and prior exist and implement
    :meth:`_posterior_and_prior`.
    """

    kl_weight: float
    kl_use_exact: bool

    def _setup_kl(self, kl_weight: float, kl_use_exact: bool) -> None:
        owner = type(self).__name__
        self.kl_weight = _check_kl_weight(owner, kl_weight)
        if not isinstance(kl_use_exact, bool):
            raise TypeError(
                f"{owner}: kl_use_exact must be a bool, got {type(kl_use_exact).__name__}"
            )
        self.kl_use_exact = kl_use_exact
        q, p = self._posterior_and_prior()
        self._kl_is_exact = kl_use_exact and _exact_available(q, p)

    def _posterior_and_prior(self) -> tuple[Distribution, Distribution]:
        raise NotImplementedError

    @property
    def kl_is_exact(self) -> bool:
        """Whether :meth:`kl_divergence` is analytic (``kl_use_exact`` and registered)."""
        return self._kl_is_exact

    def kl_divergence(self, num_samples: int = 1) -> torch.Tensor:
        """``KL(q || p)`` of the weights, a scalar tensor with gradients (unweighted).

        Analytic when :attr:`kl_is_exact`, else the Monte Carlo mean of
        ``log q(w) - log p(w)`` over ``num_samples`` reparameterised draws ``w ~ q``
        (unbiased; one draw by default, as TFP's ``kl_use_exact=False``).

        Args:
            num_samples: Draws of the Monte Carlo estimate (ignored when analytic).

        Returns:
            The KL in nats, summed over all the layer's weights.

        Raises:
            ValueError: If ``num_samples < 1``.
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(
                f"{type(self).__name__}.kl_divergence: num_samples must be an int >= 1, "
                f"got {num_samples!r}"
            )
        q, p = self._posterior_and_prior()
        if self._kl_is_exact:
            return kl_divergence(q, p).sum()
        w = q.rsample((num_samples,))
        # Each side summed over its own batch dims first: a posterior and a prior may
        # split the weights differently into batch and event (Independent or not).
        log_q = q.log_prob(w).reshape(num_samples, -1).sum(1)
        log_p = p.log_prob(w).reshape(num_samples, -1).sum(1)
        return (log_q - log_p).mean()


class WeightPosteriorLayer(VariationalLayer):
    """Base of the layers with a posterior and a prior over one weight tensor.

    ``make_posterior(shape)`` and ``make_prior(shape)`` each return a callable (an
    ``nn.Module`` is registered, so its parameters train) that, called with no
    arguments, returns a distribution over a tensor of ``shape``. The bias, where
    there is one, is a point estimate without a prior (TFP's default).
    """

    def __init__(
        self,
        weight_shape: Sequence[int],
        bias_size: int | None,
        make_posterior: Factory,
        make_prior: Factory,
        kl_weight: float,
        kl_use_exact: bool,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_factory(owner, "make_posterior", make_posterior)
        check_factory(owner, "make_prior", make_prior)
        self.weight_shape = torch.Size(weight_shape)
        self.weight_posterior = make_posterior(self.weight_shape)
        self.weight_prior = make_prior(self.weight_shape)
        check_factory(owner, "make_posterior(shape)'s result", self.weight_posterior)
        check_factory(owner, "make_prior(shape)'s result", self.weight_prior)
        self.bias = nn.Parameter(torch.zeros(bias_size)) if bias_size is not None else None
        self._setup_kl(kl_weight, kl_use_exact)

    def _posterior(self) -> Distribution:
        return checked_distribution(
            describe(self),
            f"posterior (make_posterior({list(self.weight_shape)}))",
            self.weight_posterior(),
            self.weight_shape,
            reparameterized=True,
        )

    def _posterior_and_prior(self) -> tuple[Distribution, Distribution]:
        prior = checked_distribution(
            describe(self),
            f"prior (make_prior({list(self.weight_shape)}))",
            self.weight_prior(),
            self.weight_shape,
            reparameterized=False,
        )
        return self._posterior(), prior

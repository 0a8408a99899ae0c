"""Private helpers of the VAE: shape checks for its parts and discrete-latent relaxation.

The VAE takes its encoder, decoder and prior duck-typed (any module or distribution with
the right methods), so this module checks what they return and turns a mismatch into an
error that names the part, the shape expected and the shape found. It also holds the one
rule for relaxing a discrete posterior: a ``Bernoulli`` becomes a ``RelaxedBernoulli`` and
a ``OneHotCategorical`` a ``RelaxedOneHotCategorical`` (Gumbel-softmax, Concrete) with the
same logits, inside the same ``Independent`` wrappers, and the check that the prior's
support holds the encoder's samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Independent,
    OneHotCategorical,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    constraints,
)

__all__ = [
    "check_distribution",
    "check_support",
    "describe_distribution",
    "relax",
]


def describe_distribution(d: object) -> str:
    """``Independent(Normal)``-style name of a distribution, for error messages."""
    if isinstance(d, Independent):
        return f"Independent({describe_distribution(d.base_dist)})"
    return type(d).__name__


def check_distribution(
    d: object,
    part: str,
    batch_shape: tuple[int, ...],
    event_shape: tuple[int, ...] | None,
    *,
    event_hint: str,
) -> None:
    """Check that ``d`` is distribution-like with the given batch and event shapes.

    Args:
        d: What the part returned.
        part: The part's name and role, e.g. ``"encoder q(z|x)"``.
        batch_shape: The batch shape it must have.
        event_shape: The event shape it must have, or None to accept any.
        event_hint: What to do when the event shape is wrong.

    Raises:
        TypeError: If ``d`` has no ``log_prob``.
        ValueError: If a shape is wrong; the message names both shapes.
    """
    if not callable(getattr(d, "log_prob", None)):
        raise TypeError(
            f"{part}: expected a distribution (an object with log_prob, batch_shape and "
            f"event_shape), found {type(d).__name__}"
        )
    found_batch = tuple(getattr(d, "batch_shape", ()))
    found_event = tuple(getattr(d, "event_shape", ()))
    if event_shape is not None and found_event != event_shape:
        raise ValueError(
            f"{part}: expected event_shape {event_shape}, found event_shape {found_event} "
            f"(batch_shape {found_batch}); {event_hint}"
        )
    if found_batch != batch_shape:
        raise ValueError(
            f"{part}: expected batch_shape {batch_shape} (one distribution per example) and "
            f"event_shape {found_event if event_shape is None else event_shape}, found "
            f"batch_shape {found_batch}; if the trailing batch dims are event dims, wrap the "
            "distribution in torch.distributions.Independent (the pygen.layers "
            "Independent* layers do this)"
        )


def _unwrap(d: Distribution) -> tuple[Distribution, int]:
    ndims = 0
    while isinstance(d, Independent):
        ndims += d.reinterpreted_batch_ndims
        d = d.base_dist
    return d, ndims


def _rewrap(d: Distribution, ndims: int) -> Distribution:
    return Independent(d, ndims) if ndims else d


def _hard_bernoulli(z: Tensor) -> Tensor:
    return (z > 0.5).to(z.dtype)


def _hard_one_hot(z: Tensor) -> Tensor:
    return F.one_hot(z.argmax(-1), z.shape[-1]).to(z.dtype)


def relax(
    q: Any, temperature: float | None
) -> tuple[Distribution, Callable[[Tensor], Tensor]] | None:
    """The relaxed counterpart of a discrete posterior, and the map back to exact samples.

    Args:
        q: The encoder's distribution.
        temperature: The relaxation temperature, or None when the VAE has none.

    Returns:
        ``(relaxed, harden)`` when ``q`` is a ``Bernoulli`` or ``OneHotCategorical`` (inside
        any ``Independent``) and ``temperature`` is set: ``relaxed.rsample()`` is
        differentiable in the logits, and ``harden(relaxed.rsample())`` is an exact sample
        of ``q`` (thresholding at 1/2 and the Gumbel-max argmax). None when ``q`` can be
        reparameterised itself (``q.has_rsample``).

    Raises:
        TypeError: If ``q`` cannot be reparameterised and cannot be relaxed; the message
            names the distribution and what to use instead.
    """
    if getattr(q, "has_rsample", False):
        return None
    name = describe_distribution(q)
    base, ndims = _unwrap(q) if isinstance(q, Distribution) else (q, 0)
    if isinstance(base, (Bernoulli, OneHotCategorical)):
        if temperature is None:
            relaxed_name = (
                "RelaxedBernoulli" if isinstance(base, Bernoulli) else "RelaxedOneHotCategorical"
            )
            raise TypeError(
                f"encoder q(z|x): {name} cannot be reparameterised (has_rsample=False), so "
                "the ELBO's gradient cannot reach the encoder through its samples; build the "
                f"VAE with temperature=... (e.g. 0.5) to train through a {relaxed_name} "
                "(Gumbel-softmax) relaxation, or use a reparameterisable encoder such as "
                "pygen.layers.IndependentNormal"
            )
        if isinstance(base, Bernoulli):
            relaxed: Distribution = RelaxedBernoulli(
                torch.as_tensor(temperature, dtype=base.logits.dtype, device=base.logits.device),
                logits=base.logits,
            )
            return _rewrap(relaxed, ndims), _hard_bernoulli
        relaxed = RelaxedOneHotCategorical(
            torch.as_tensor(temperature, dtype=base.logits.dtype, device=base.logits.device),
            logits=base.logits,
        )
        return _rewrap(relaxed, ndims), _hard_one_hot
    if isinstance(base, Categorical):
        advice = (
            "use a one-hot latent (pygen.layers.OneHotCategorical) and build the VAE with "
            "temperature=... for a Gumbel-softmax relaxation"
        )
    else:
        advice = (
            "use a reparameterisable encoder such as pygen.layers.IndependentNormal, or a "
            "Bernoulli / OneHotCategorical latent with temperature=... for a relaxation"
        )
    raise TypeError(
        f"encoder q(z|x): {name} cannot be reparameterised (has_rsample=False), so the "
        f"ELBO's gradient cannot reach the encoder through its samples; {advice}"
    )


def _is_real(support: constraints.Constraint) -> bool:
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    return isinstance(support, type(constraints.real))


def check_support(prior: Any, q: Any, z: Tensor) -> None:
    """Check that the prior's support holds the samples ``z`` of the encoder's q(z|x).

    A prior over part of the space (``Gamma``, ``Exponential``, ``Beta``, ``Uniform``)
    with an encoder over all of it (``Normal``) gives ``log p(z) = -inf`` or torch's
    support error at some samples, or an infinite closed-form KL for every example.
    Non-finite samples are left to the trainer's non-finite checks; a prior whose
    support is all reals, or is not a known constraint, is not checked.

    Args:
        prior: p(z).
        q: The encoder's q(z|x) that drew ``z``.
        z: Samples, ``[n, batch, *latent_event_shape]``.

    Raises:
        ValueError: If a finite sample lies outside the prior's support; the message
            names both distributions, both supports and the first such sample.
    """
    support = getattr(prior, "support", None)
    if (
        not isinstance(support, constraints.Constraint)
        or isinstance(support, type(constraints.dependent))
        or _is_real(support)
    ):
        return
    event_dims = len(getattr(prior, "event_shape", ()))
    inside = support.check(z)
    finite = torch.isfinite(z)
    if event_dims:
        finite = finite.flatten(-event_dims).all(-1)
    outside = finite & ~inside
    if not bool(outside.any()):
        return
    first = tuple(int(i) for i in outside.nonzero()[0])
    q_support = getattr(q, "support", None)
    q_text = f" (support {q_support})" if isinstance(q_support, constraints.Constraint) else ""
    raise ValueError(
        f"prior p(z): expected the encoder's samples z ~ q(z|x) in the prior's support "
        f"{support}, found samples outside it ({int(outside.sum())} of {outside.numel()}, "
        f"first at sample {first[0]} of example {first[1]}): q(z|x) is "
        f"{describe_distribution(q)}{q_text} and p(z) is {describe_distribution(prior)}; use "
        "an encoder whose samples lie in that support (e.g. a TransformedDistribution "
        "through the support's transform, torch.distributions.biject_to) or a prior over "
        "the encoder's support"
    )

"""What kind of number a metric name promises: an exact log-likelihood, a bound, or other.

pygen names metrics by what they are, so that nothing reports a bound as a likelihood:

* ``"log_prob"`` is an exact log-likelihood per example, and nothing else is;
* ``"elbo"``, ``"iwae"`` and ``"iwae_<k>"`` (``"iwae_k"`` or digits, e.g. ``"iwae_64"``)
  are lower bounds on it (evidence lower bound, importance-weighted bound);
* any other name (``"kl"``, ``"accuracy"``, ``"objective"``, ...) is just a number.

A ``val_`` prefix (validation) keeps the kind of the name behind it. Bits per dimension
are derived only for likelihoods and bounds, ``-value / (D ln 2)``, under the name
:func:`bits_per_dim_name` gives: ``"bits_per_dim"`` for ``"log_prob"`` and
``"<bound>_bits_per_dim"`` for a bound (an upper bound on the true bits per dimension),
so the bound stays visible in the name. Callbacks and other packages use these rules
without importing any model code.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["MetricKind", "bits_per_dim_name", "metric_kind"]

MetricKind = Literal["likelihood", "bound", "other"]

VALIDATION_PREFIX = "val_"
_BOUND = re.compile(r"^(elbo|iwae|iwae_k|iwae_[0-9]+)$")


def metric_kind(name: str) -> MetricKind:
    """Whether ``name`` is an exact log-likelihood, a lower bound on one, or other.

    Args:
        name: a metric name, with or without the ``val_`` prefix.

    Returns:
        ``"likelihood"`` for ``log_prob``, ``"bound"`` for ``elbo``, ``iwae``,
        ``iwae_k`` and ``iwae_<digits>``, else ``"other"``.

    Raises:
        TypeError: if ``name`` is not a string.

    Example:
        >>> from pygen.train.metric_names import metric_kind
        >>> [metric_kind(n) for n in ("log_prob", "val_elbo", "iwae_64", "kl")]
        ['likelihood', 'bound', 'bound', 'other']
    """
    if not isinstance(name, str):
        raise TypeError(f"metric_kind: name must be a str, got {type(name).__name__}")
    if name.startswith(VALIDATION_PREFIX):
        name = name[len(VALIDATION_PREFIX) :]
    if name == "log_prob":
        return "likelihood"
    if _BOUND.match(name):
        return "bound"
    return "other"


def bits_per_dim_name(name: str) -> str | None:
    """The name of the bits-per-dimension figure derived from metric ``name``, if any.

    Args:
        name: a metric name, with or without the ``val_`` prefix.

    Returns:
        ``"bits_per_dim"`` for ``log_prob`` (``"val_bits_per_dim"`` for
        ``val_log_prob``), ``"<name>_bits_per_dim"`` for a bound, None for other metrics
        (no bits per dimension are derived from them).

    Example:
        >>> from pygen.train.metric_names import bits_per_dim_name
        >>> [bits_per_dim_name(n) for n in ("log_prob", "val_log_prob", "elbo", "kl")]
        ['bits_per_dim', 'val_bits_per_dim', 'elbo_bits_per_dim', None]
    """
    kind = metric_kind(name)
    if kind == "other":
        return None
    prefix = VALIDATION_PREFIX if name.startswith(VALIDATION_PREFIX) else ""
    if kind == "likelihood":
        return f"{prefix}bits_per_dim"
    return f"{name}_bits_per_dim"

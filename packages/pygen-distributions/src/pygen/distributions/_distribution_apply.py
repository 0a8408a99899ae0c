"""Apply a module's tensor conversion to a fixed ``torch.distributions`` object (private).

``nn.Module.to(device)``, ``.double()``, ``.half()``, ``.cuda()`` and the rest all call
``Module._apply(fn)`` with one function ``fn`` that converts a tensor. A
``torch.distributions.Distribution`` is not a module, so a VAE's fixed prior would stay
behind; :func:`apply_to_distribution` gives it the same ``fn``.

How torch's distributions hold their state decides how. Every one is a plain object whose
``__dict__`` holds:

- its parameters as tensors (``loc``, ``scale``, ``probs`` or ``logits``, ...), sometimes
  twice under two names (``Bernoulli._param`` is ``Bernoulli.probs``);
- the *lazy* parametrisation, once read: ``lazy_property`` writes ``logits`` (or
  ``probs``, ``scale_tril``, ``covariance_matrix``, ...) into the instance ``__dict__`` on
  first access, so a converted copy must convert those too, or ``log_prob`` would mix the
  old dtype or device with the new;
- nested distributions (``Independent.base_dist``, ``TransformedDistribution.base_dist``,
  ``MixtureSameFamily._mixture_distribution`` / ``_component_distribution``, the helpers
  of ``Beta``, ``StudentT``, ``OneHotCategorical``, ...) and lists of ``Transform`` objects,
  whose own ``__dict__`` holds their tensors (``AffineTransform.loc``), a cache of the
  last ``(x, y)`` they saw and a reference to their inverse (a weak one in older torch);
- plain values: ``torch.Size`` shapes, numbers, booleans, strings.

So the conversion copies the object graph (never mutating the user's prior, which may be
shared), converts every tensor with ``fn`` once (aliases stay aliases), keeps shapes,
numbers, classes and the constraints that hold no tensor, empties transform caches and
drops weak inverse references (they are rebuilt on use), and refuses, naming the
attribute, whatever it cannot convert safely: an object of an unknown kind, a tensor that
requires grad (a converted copy would no longer be the tensor an optimiser updates), or
a dtype change of a ``Gumbel`` (it fixes its sampler's bounds from ``torch.finfo`` of its
dtype when built). The remedy in each case is a prior given as an ``nn.Module``, whose
parameters and buffers the module conversion moves itself.
"""

from __future__ import annotations

import numbers
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Gumbel
from torch.distributions.constraints import Constraint
from torch.distributions.transforms import Transform

from pygen.distributions._latent import describe_distribution

__all__ = ["apply_to_distribution"]

_PLAIN = (
    type(None),
    bool,
    numbers.Number,
    str,
    torch.Size,
    torch.dtype,
    torch.device,
)

_REMEDY = (
    "pass the prior as an nn.Module instead (one whose forward() returns the distribution, "
    "built from tensors registered with register_buffer), which .to() moves with the VAE"
)


class _Converter:
    """One conversion of one object graph: ``fn``, the memo of what is converted, the name."""

    def __init__(self, fn: Callable[[Tensor], Tensor], name: str, root: Distribution) -> None:
        self.fn = fn
        self.name = name
        self.what = f"the fixed {describe_distribution(root)} {name}"
        self.memo: dict[int, Any] = {}

    def refuse(self, path: str, found: str) -> TypeError:
        return TypeError(
            f"{self.name}: {self.what} cannot follow the module's .to()/.double()/.half(): "
            f"{path} holds {found}, which is neither a tensor, a distribution, a transform "
            f"nor a plain value; {_REMEDY}"
        )

    def value(self, value: Any, path: str) -> Any:
        if isinstance(value, _PLAIN):
            return value
        if id(value) in self.memo:
            return self.memo[id(value)]
        if isinstance(value, Tensor):
            return self.tensor(value, path)
        if isinstance(value, nn.Module):
            raise self.refuse(path, f"an nn.Module ({type(value).__name__})")
        if isinstance(value, (Distribution, Transform)):
            return self.obj(value, path)
        if isinstance(value, Constraint):
            return self.constraint(value, path)
        if type(value) in (list, tuple):
            items = [self.value(item, f"{path}[{i}]") for i, item in enumerate(value)]
            return type(value)(items)
        if type(value) is dict:
            return {key: self.value(item, f"{path}[{key!r}]") for key, item in value.items()}
        raise self.refuse(path, f"an object of type {type(value).__name__}")

    def tensor(self, tensor: Tensor, path: str) -> Tensor:
        if tensor.requires_grad:
            raise ValueError(
                f"{self.name}: {self.what} cannot follow the module's .to()/.double()/.half(): "
                f"{path} requires grad (a trainable parameter), and a converted copy would no "
                "longer be the tensor an optimiser updates; pass a trainable prior as an "
                "nn.Module that holds it as an nn.Parameter"
            )
        converted = self.fn(tensor)
        self.memo[id(tensor)] = converted
        return converted

    def constraint(self, constraint: Constraint, path: str) -> Constraint:
        # torch's constraints are mostly shared singletons (constraints.real): keep those
        # that hold no tensor, and copy the others (an interval with tensor bounds).
        if not _holds_tensor(constraint):
            return constraint
        return self.obj(constraint, path)

    def obj(self, obj: Any, path: str) -> Any:
        """A copy of a distribution, transform or constraint, its attributes converted."""
        if any(getattr(cls, "__slots__", ()) for cls in type(obj).__mro__):
            raise self.refuse(path, f"a {type(obj).__name__} with __slots__")
        if isinstance(obj, Gumbel):
            self.check_gumbel(obj, path)
        copy = type(obj).__new__(type(obj))
        self.memo[id(obj)] = copy  # before the attributes: transforms and inverses cycle
        state = {}
        for key, item in vars(obj).items():
            if isinstance(obj, Transform) and key == "_cached_x_y":
                state[key] = (None, None)  # a cache of the last call, refilled on use
            elif isinstance(obj, Transform) and key == "_inv" and isinstance(item, weakref.ref):
                state[key] = None  # older torch keeps the inverse weakly, rebuilt on use
            else:
                state[key] = self.value(item, f"{path}.{key}")
        copy.__dict__.update(state)
        return copy

    def check_gumbel(self, gumbel: Gumbel, path: str) -> None:
        before = gumbel.loc.dtype
        after = self.fn(gumbel.loc).dtype
        if after != before:
            raise TypeError(
                f"{self.name}: {self.what} cannot be converted from {before} to {after}: "
                f"torch's Gumbel ({path}) fixes its sampler's bounds from torch.finfo({before}) "
                f"when it is built, and in {after} they would be wrong (in float16 they round "
                f"to 0 and 1, and samples become infinite); build the Gumbel in {after}, or "
                f"{_REMEDY}"
            )


def _holds_tensor(constraint: Constraint) -> bool:
    for item in getattr(constraint, "__dict__", {}).values():
        if isinstance(item, Tensor) or (isinstance(item, Constraint) and _holds_tensor(item)):
            return True
    return False


def apply_to_distribution(
    distribution: Distribution, fn: Callable[[Tensor], Tensor], name: str
) -> Distribution:
    """A copy of ``distribution`` with ``fn`` applied to every tensor it holds.

    Nested distributions and transforms are copied too; shapes, classes and plain values
    are kept; the original is left as it was.

    Args:
        distribution: The distribution to convert.
        fn: The tensor conversion (the one ``nn.Module._apply`` is given).
        name: The argument's name, for error messages.

    Returns:
        The converted copy.

    Raises:
        TypeError: If it holds something this cannot convert (says what and where).
        ValueError: If it holds a tensor that requires grad.

    Example:
        >>> import torch
        >>> from torch.distributions import Independent, Normal
        >>> prior = Independent(Normal(torch.zeros(3), torch.ones(3)), 1)
        >>> double = apply_to_distribution(prior, lambda t: t.double(), "prior")
        >>> double.base_dist.loc.dtype, double.event_shape, prior.base_dist.loc.dtype
        (torch.float64, torch.Size([3]), torch.float32)
    """
    converter = _Converter(fn, name, distribution)
    return converter.obj(distribution, name)  # type: ignore[return-value]

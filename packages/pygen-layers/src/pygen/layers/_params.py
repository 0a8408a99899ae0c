"""Shared parameter handling for the distribution layers (private).

Every layer reads its parameters from one tensor. This module holds the one rule for
how that tensor is laid out, the checks that turn a wrong shape into a
:class:`ValueError` naming the expected and actual shapes, ``params_size`` in both of
its forms, and the guard every returned distribution carries against the trailing-1
trap.

The layout rule, for a layer with ``event_shape`` ``E`` that reads ``k`` numbers per
event element (``params_size == k * prod(E)``), accepts two shapes:

* **flat**: ``[*batch, k * prod(E)]``, as in TensorFlow Probability;
* **channel-first**: ``[*batch, k * E[0], *E[1:]]``, the output of a convolution for an
  image event ``E = [C, H, W]``. For ``k == 1`` this is simply ``[*batch, *E]``.

and reads them in one of two orders:

* **parameter-major** (:func:`reshape_params`; ``IndependentBernoulli``,
  ``IndependentNormal``, ...): ``params.reshape(*batch, k, *E)``. Parameter ``j`` of
  every element is the ``j``-th block of ``prod(E)`` numbers in the flat layout and the
  ``j``-th block of ``C`` channels in the channel-first one, so the flat form is the
  channel-first form flattened.
* **element-major** (:func:`reshape_params_by_element`; the original pygen's
  ``IndependentCategorical`` and ``IndependentQuantizedDistribution``): each element's
  ``k`` numbers are contiguous. Flat: ``params.reshape(*batch, *E, k)``; channel-first:
  ``params.reshape(*batch, C, k, *E[1:])``, channels ``c * k .. c * k + k - 1`` holding
  channel ``c``'s ``k`` numbers at every pixel.

When a tensor fits both shapes the channel-first reading wins (it only happens when
``k == 1`` and every dimension of ``E`` but the last is 1), except inside
:func:`flat_params_only` (a mixture's components). Anything else raises
``ValueError``; no layer broadcasts or permutes silently.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, MixtureSameFamily

from pygen.distributions._validation import check_no_trailing_one

__all__ = [
    "RefusesTrailingOne",
    "as_event_shape",
    "check_last_dim",
    "check_positive_int",
    "check_tensor",
    "describe",
    "flat_params_only",
    "independent",
    "loc_and_scale",
    "mixture",
    "parameter",
    "parameter_block",
    "params_size_method",
    "reshape_params",
    "reshape_params_by_element",
    "split_mixture_params",
]


def describe(module: nn.Module) -> str:
    """``ClassName(extra_repr)`` on one line, for error messages."""
    return f"{type(module).__name__}({module.extra_repr()})"


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an ``int`` >= 1 (``bool`` excluded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def as_event_shape(
    value: int | Sequence[int] | torch.Size, name: str = "event_shape"
) -> torch.Size:
    """Turn an ``int`` or a sequence of ints (each >= 1) into a ``torch.Size``."""
    if isinstance(value, int) and not isinstance(value, bool):
        dims: Sequence[object] = (value,)
    elif isinstance(value, (Sequence, torch.Size)) and not isinstance(value, str):
        dims = value
    else:
        raise TypeError(
            f"{name} must be an int or a sequence of ints, got {type(value).__name__} ({value!r})"
        )
    for dim in dims:
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(
                f"{name} must contain only ints, got {type(dim).__name__} ({dim!r}) in {value!r}"
            )
        if dim < 1:
            raise ValueError(f"{name} must contain only positive sizes, got {list(dims)}")
    return torch.Size(dims)  # type: ignore[arg-type]


def check_tensor(params: object, name: str, layer: str) -> torch.Tensor:
    """Return ``params`` if it is a floating-point tensor, else raise ``TypeError``."""
    if not isinstance(params, torch.Tensor):
        raise TypeError(f"{layer}: {name} must be a torch.Tensor, got {type(params).__name__}")
    if not params.is_floating_point():
        raise TypeError(
            f"{layer}: {name} must be a floating-point tensor, got dtype {params.dtype}"
        )
    return params


def check_last_dim(params: object, size: int, layer: str) -> torch.Tensor:
    """Check a flat-only parameter tensor ``[*batch, size]`` and return it."""
    params = check_tensor(params, "params", layer)
    if params.dim() == 0 or params.shape[-1] != size:
        raise ValueError(
            f"{layer}: params must have shape [*batch, {size}], got {list(params.shape)}"
        )
    return params


_FLAT_ONLY: ContextVar[bool] = ContextVar("pygen_layers_flat_params_only", default=False)
_INSIDE_MIXTURE: ContextVar[bool] = ContextVar("pygen_layers_inside_mixture", default=False)


@contextlib.contextmanager
def flat_params_only() -> Iterator[None]:
    """Within the block, a tensor that fits both layouts is read as flat.

    A mixture hands its component layer ``[*batch, M, P]``; with ``M == 1`` and a
    component event such as ``[1, 4]`` that tensor also fits the channel-first layout,
    which would swallow the component dimension into the event.
    """
    token = _FLAT_ONLY.set(True)
    try:
        yield
    finally:
        _FLAT_ONLY.reset(token)


def _batch_shape(
    params: object, event_shape: torch.Size, k: int, layer: str
) -> tuple[torch.Tensor, torch.Size, bool]:
    """Check ``params`` against both layouts; return it, its batch shape, and whether it
    is channel-first."""
    params = check_tensor(params, "params", layer)
    size = k * math.prod(event_shape)
    shaped_tail = (k * event_shape[0], *event_shape[1:]) if len(event_shape) > 0 else (k,)
    n = len(shaped_tail)
    flat = params.dim() >= 1 and params.shape[-1] == size
    channel_first = params.dim() >= n and tuple(params.shape[params.dim() - n :]) == shaped_tail
    if channel_first and not (flat and _FLAT_ONLY.get()):
        return params, params.shape[: params.dim() - n], n > 1
    if flat:
        return params, params.shape[:-1], False
    expected = f"[*batch, {size}] (flat)"
    if len(event_shape) > 1:
        expected += f" or [*batch, {', '.join(map(str, shaped_tail))}] (channel-first)"
    raise ValueError(
        f"{layer}: params must have shape {expected}, got {list(params.shape)}; "
        f"a channel-last tensor must be permuted to channel-first first"
    )


def reshape_params(
    params: object, event_shape: torch.Size, params_per_element: int, layer: str
) -> torch.Tensor:
    """Read ``params`` parameter-major (see the module docstring) as ``[*B, k, *E]``.

    Args:
        params: The parameter tensor given to the layer.
        event_shape: ``E``, the event shape of the returned distribution.
        params_per_element: ``k``, how many numbers each event element reads.
        layer: The layer's description, used in error messages.

    Returns:
        ``params`` reshaped to ``[*batch, k, *E]``.

    Raises:
        TypeError: If ``params`` is not a floating-point tensor.
        ValueError: If ``params`` fits neither layout.
    """
    params, batch_shape, _ = _batch_shape(params, event_shape, params_per_element, layer)
    return params.reshape(*batch_shape, params_per_element, *event_shape)


def reshape_params_by_element(
    params: object, event_shape: torch.Size, params_per_element: int, layer: str
) -> torch.Tensor:
    """Read ``params`` element-major (the original pygen's order) as ``[*B, *E, k]``.

    Flat ``[*B, prod(E) * k]`` is ``reshape(*B, *E, k)``; channel-first
    ``[*B, k * C, *E[1:]]`` is ``reshape(*B, C, k, *E[1:])`` with the ``k`` axis moved
    last.

    Args:
        params: The parameter tensor given to the layer.
        event_shape: ``E``, the event shape of the returned distribution.
        params_per_element: ``k``, how many numbers each event element reads.
        layer: The layer's description, used in error messages.

    Returns:
        ``params`` as ``[*batch, *E, k]``.

    Raises:
        TypeError: If ``params`` is not a floating-point tensor.
        ValueError: If ``params`` fits neither layout.
    """
    k = params_per_element
    params, batch_shape, channel_first = _batch_shape(params, event_shape, k, layer)
    if not channel_first:
        return params.reshape(*batch_shape, *event_shape, k)
    by_channel = params.reshape(*batch_shape, event_shape[0], k, *event_shape[1:])
    return by_channel.movedim(len(batch_shape) + 1, -1)


def parameter(params: torch.Tensor, event_ndims: int, index: int) -> torch.Tensor:
    """Parameter ``index`` of a ``[*B, k, *E]`` tensor, as ``[*B, *E]``."""
    return params.select(-event_ndims - 1, index)


def parameter_block(
    params: torch.Tensor, event_ndims: int, start: int, length: int
) -> torch.Tensor:
    """Parameters ``start .. start + length - 1`` of ``[*B, k, *E]``, as ``[*B, *E, length]``."""
    axis = params.dim() - event_ndims - 1
    return params.narrow(axis, start, length).movedim(axis, -1)


def loc_and_scale(params: torch.Tensor, event_ndims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Location (parameter 0, as is) and scale (``softplus`` of parameter 1) of ``[*B, 2, *E]``."""
    loc = parameter(params, event_ndims, 0)
    scale = nn.functional.softplus(parameter(params, event_ndims, 1))
    return loc, scale


def _public_name(cls: type) -> str:
    """The first public class name in ``cls``'s MRO (``Independent`` for the private
    subclass), for messages."""
    return next(
        c.__name__
        for c in cls.__mro__
        if not c.__name__.startswith("_") and c.__name__ != "RefusesTrailingOne"
    )


class RefusesTrailingOne:
    """Mixin for a ``torch.distributions`` class: ``log_prob`` refuses the trailing-1 trap.

    A value shaped ``[..., *batch_shape, 1, *event_shape]`` against a batch ending in
    ``N > 1`` would broadcast to ``[..., N, N]`` silently (TFP#535); it raises the
    ``ValueError`` of :func:`pygen.distributions._validation.check_no_trailing_one`,
    the one rule every pygen layer output and conditioned model shares. List it before
    the distribution class: ``class Normal(RefusesTrailingOne, torch.distributions.Normal)``.
    """

    batch_shape: torch.Size
    event_shape: torch.Size

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if isinstance(value, torch.Tensor) and not _INSIDE_MIXTURE.get():
            check_no_trailing_one(
                value.shape,
                self.batch_shape,
                self.event_shape,
                owner=f"{_public_name(type(self))}.log_prob",
            )
        return super().log_prob(value)  # type: ignore[misc]


class _EventCheckedIndependent(RefusesTrailingOne, Independent):
    """``Independent`` whose ``log_prob`` refuses a value whose trailing dims are not
    ``event_shape``, and the trailing-1 trap.

    ``torch.distributions.Independent`` hands the value straight to its base, which only
    checks that it broadcasts: an image ``[N, 28, 28]`` against ``event_shape [1, 28, 28]``
    would broadcast to ``[N, N, 28, 28]`` and be summed without an error.
    """

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        event_shape = self.event_shape
        n = len(event_shape)
        if isinstance(value, torch.Tensor) and (
            value.dim() < n or value.shape[value.dim() - n :] != event_shape
        ):
            raise ValueError(
                f"log_prob: the right-most dims of value must be event_shape "
                f"{list(event_shape)}, got value of shape {list(value.shape)} "
                f"(batch_shape {list(self.batch_shape)})"
            )
        return super().log_prob(value)


class _CheckedMixtureSameFamily(RefusesTrailingOne, MixtureSameFamily):
    """``torch.distributions.MixtureSameFamily`` refusing the trailing-1 trap.

    The check is made once, on the value given; ``MixtureSameFamily`` then scores the
    value against every component by padding it to ``[..., 1, *event_shape]``, a
    deliberate broadcast that the components (layer outputs themselves) must let pass.
    """

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if isinstance(value, torch.Tensor) and not _INSIDE_MIXTURE.get():
            check_no_trailing_one(
                value.shape, self.batch_shape, self.event_shape, owner="MixtureSameFamily.log_prob"
            )
        token = _INSIDE_MIXTURE.set(True)
        try:
            return MixtureSameFamily.log_prob(self, value)
        finally:
            _INSIDE_MIXTURE.reset(token)


def independent(base: Distribution, event_ndims: int) -> Distribution:
    """Reinterpret the last ``event_ndims`` batch dims of ``base`` as event dims.

    The result is a ``torch.distributions.Independent`` whose ``log_prob`` raises
    ``ValueError`` for a value whose trailing dims are not ``event_shape`` (plain
    ``Independent`` broadcasts such a value silently) and for the trailing-1 trap;
    ``base`` itself when ``event_ndims == 0``, so ``base`` must refuse the trap itself
    (a :class:`RefusesTrailingOne` class).
    """
    if event_ndims == 0:
        if not isinstance(base, RefusesTrailingOne):
            raise TypeError(f"independent: {type(base).__name__} does not refuse the trap")
        return base
    return _EventCheckedIndependent(base, event_ndims)


_R = TypeVar("_R")


class params_size_method(Generic[_R]):
    """``params_size`` in both forms: static with arguments, and on an instance without.

    ``Layer.params_size(*args)`` calls the function (TensorFlow Probability's form, to
    size a network before the layer exists). ``layer.params_size()`` with no arguments
    calls it with the layer's own constructor arguments, read from the attributes of the
    same names (the original pygen's form); with arguments it is the static form again.

    Example:
        >>> from pygen.layers import IndependentCategorical
        >>> IndependentCategorical.params_size([2], 3)
        6
        >>> IndependentCategorical([2], num_classes=3).params_size()
        6
    """

    def __init__(self, function: Callable[..., _R]) -> None:
        self.function = function
        self.parameters = list(inspect.signature(function).parameters)
        functools.update_wrapper(self, function)  # type: ignore[arg-type]

    def __get__(self, instance: object, owner: type | None = None) -> Callable[..., _R]:
        if instance is None:
            return self.function
        function, names = self.function, self.parameters

        @functools.wraps(function)
        def params_size(*args: Any, **kwargs: Any) -> _R:
            if args or kwargs:
                return function(*args, **kwargs)
            own = {name: getattr(instance, name) for name in names if hasattr(instance, name)}
            return function(**own)

        return params_size


def split_mixture_params(
    params: object, num_components: int, component_params_size: int | None, layer: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``[*B, M + M * P]`` into mixture logits ``[*B, M]`` and ``[*B, M, P]``.

    ``P`` is ``component_params_size`` when given, else inferred from the last dimension.

    Raises:
        TypeError: If ``params`` is not a floating-point tensor.
        ValueError: If the last dimension is not ``M + M * P`` (for some ``P >= 1`` when
            ``P`` is not given).
    """
    params = check_tensor(params, "params", layer)
    m = num_components
    last = params.shape[-1] if params.dim() > 0 else 0
    if component_params_size is None:
        fits = last > m and (last - m) % m == 0
        expected = f"{m} + {m} * component_params_size"
    else:
        fits = last == m + m * component_params_size
        expected = f"{m + m * component_params_size}"
    if not fits:
        raise ValueError(
            f"{layer}: params must have shape [*batch, {expected}] (mixture logits, then "
            f"one parameter set per component), got {list(params.shape)}"
        )
    logits = params[..., :m]
    components = params[..., m:].reshape(*params.shape[:-1], m, (last - m) // m)
    return logits, components


def mixture(logits: torch.Tensor, components: Distribution, layer: str) -> MixtureSameFamily:
    """A mixture over the last batch dimension of ``components``, weighted by ``logits``."""
    expected = logits.shape
    if components.batch_shape != expected:
        raise ValueError(
            f"{layer}: the component distribution must have batch_shape {list(expected)} "
            f"(batch + [num_components]), got {list(components.batch_shape)}"
        )
    return _CheckedMixtureSameFamily(Categorical(logits=logits), components)

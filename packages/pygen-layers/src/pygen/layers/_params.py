"""Shared parameter handling for the distribution layers (private).

Every layer reads its parameters from one tensor. This module holds the one rule for
how that tensor is laid out, and the checks that turn a wrong shape into a
:class:`ValueError` naming the expected and actual shapes.

The layout rule, for a layer with ``event_shape`` ``E`` that reads ``k`` numbers per
event element (``params_size == k * prod(E)``):

* **flat**: ``[*batch, k * prod(E)]``, as in TensorFlow Probability;
* **channel-first**: ``[*batch, k * E[0], *E[1:]]``, the output of a convolution for an
  image event ``E = [C, H, W]``. For ``k == 1`` this is simply ``[*batch, *E]``.

Both are read as ``params.reshape(*batch, k, *E)``: parameter ``j`` of every element is
``[..., j, :, ...]``, which is the ``j``-th block of ``C`` channels in the channel-first
layout and the ``j``-th block of ``prod(E)`` numbers in the flat one. When a tensor fits
both layouts the channel-first reading wins (it only happens when ``k == 1`` and every
dimension of ``E`` but the last is 1). Anything else raises ``ValueError``; no layer
broadcasts or permutes silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, MixtureSameFamily

__all__ = [
    "as_event_shape",
    "check_last_dim",
    "check_positive_int",
    "check_tensor",
    "describe",
    "independent",
    "loc_and_scale",
    "mixture",
    "parameter",
    "parameter_block",
    "reshape_params",
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


def reshape_params(
    params: object, event_shape: torch.Size, params_per_element: int, layer: str
) -> torch.Tensor:
    """Read ``params`` (flat or channel-first, see the module docstring) as ``[*B, k, *E]``.

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
    params = check_tensor(params, "params", layer)
    k = params_per_element
    size = k * math.prod(event_shape)
    shaped_tail = (k * event_shape[0], *event_shape[1:]) if len(event_shape) > 0 else (k,)
    n = len(shaped_tail)
    if params.dim() >= n and tuple(params.shape[params.dim() - n :]) == shaped_tail:
        batch_shape = params.shape[: params.dim() - n]
    elif params.dim() >= 1 and params.shape[-1] == size:
        batch_shape = params.shape[:-1]
    else:
        expected = f"[*batch, {size}] (flat)"
        if len(event_shape) > 1:
            expected += f" or [*batch, {', '.join(map(str, shaped_tail))}] (channel-first)"
        raise ValueError(
            f"{layer}: params must have shape {expected}, got {list(params.shape)}; "
            f"a channel-last tensor must be permuted to channel-first first"
        )
    return params.reshape(*batch_shape, k, *event_shape)


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


class _EventCheckedIndependent(Independent):
    """``Independent`` whose ``log_prob`` refuses a value whose trailing dims are not
    ``event_shape``.

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


def independent(base: Distribution, event_ndims: int) -> Distribution:
    """Reinterpret the last ``event_ndims`` batch dims of ``base`` as event dims.

    The result is a ``torch.distributions.Independent`` whose ``log_prob`` raises
    ``ValueError`` for a value whose trailing dims are not ``event_shape`` (plain
    ``Independent`` broadcasts such a value silently); ``base`` itself when
    ``event_ndims == 0``.
    """
    if event_ndims == 0:
        return base
    return _EventCheckedIndependent(base, event_ndims)


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
    return MixtureSameFamily(Categorical(logits=logits), components)

"""Argument and value checks shared by every distribution in this package (private).

The checks are plain Python on ``torch.Size`` objects, so they cost microseconds and
run on every call, whatever ``validate_args`` says. The value-*support* checks stay
behind ``validate_args`` (they read tensor data), exactly as in ``torch.distributions``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "as_float_tensor",
    "broadcast_condition_batch",
    "broadcast_params",
    "broadcast_shapes",
    "check_condition",
    "check_count",
    "check_no_trailing_one",
    "check_sample_shape",
    "check_value_shape",
]


def broadcast_shapes(*shapes: Sequence[int]) -> torch.Size:
    """The broadcast of ``shapes`` (NumPy rules), in plain Python.

    Same result as ``torch.broadcast_shapes``, which imports sympy on its first call
    (half a second with cached bytecode, seconds without) and costs tens of microseconds
    per call after that; this is on the path of every conditioned ``log_prob``.

    Raises:
        RuntimeError: If the shapes do not broadcast (as ``torch.broadcast_shapes``).

    Example:
        >>> broadcast_shapes((4, 1), (3,), ())
        torch.Size([4, 3])
    """
    result = [1] * max((len(shape) for shape in shapes), default=0)
    for shape in shapes:
        offset = len(result) - len(shape)
        for dim, size in enumerate(shape):
            current = result[offset + dim]
            if size == current or size == 1:
                continue
            if current != 1:
                listed = ", ".join(str(tuple(s)) for s in shapes)
                raise RuntimeError(f"shapes {listed} do not broadcast")
            result[offset + dim] = size
    return torch.Size(result)


def check_value_shape(
    value: object,
    batch_shape: torch.Size,
    event_shape: torch.Size,
    *,
    name: str = "value",
) -> None:
    """Check that ``value`` can be scored by a distribution with the given shapes.

    The rule is ``torch.distributions``' own: the rightmost ``len(event_shape)`` dims of
    ``value`` must equal ``event_shape``, and the dims left of them must broadcast with
    ``batch_shape`` (a size of 1 on either side broadcasts).

    Args:
        value: The tensor to be scored.
        batch_shape: The distribution's batch shape.
        event_shape: The distribution's event shape.
        name: The argument name to print in error messages.

    Raises:
        TypeError: If ``value`` is not a tensor.
        ValueError: If the shapes do not fit; the message shows the expected
            ``batch_shape + event_shape`` and the shape found.
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, found {type(value).__name__}")
    shape = value.shape
    expected = tuple(batch_shape) + tuple(event_shape)
    n_event = len(event_shape)
    if len(shape) < n_event or tuple(shape[len(shape) - n_event :]) != tuple(event_shape):
        raise ValueError(
            f"{name}: expected a shape ending in event_shape {tuple(event_shape)} "
            f"(batch_shape + event_shape = {expected}), found shape {tuple(shape)}"
        )
    for found, wanted in zip(reversed(shape), reversed(expected), strict=False):
        if found != wanted and found != 1 and wanted != 1:
            raise ValueError(
                f"{name}: expected a shape whose trailing dims broadcast with "
                f"batch_shape + event_shape = {expected}, found shape {tuple(shape)}"
            )


def check_no_trailing_one(
    value_shape: torch.Size,
    batch_shape: torch.Size,
    event_shape: torch.Size,
    *,
    name: str = "value",
    owner: str = "log_prob",
    against: str = "the distribution has batch_shape",
) -> None:
    """Refuse the trailing-1 trap: a value shaped ``[..., *batch_shape, 1, *event_shape]``.

    This is the one rule, shared by every pygen layer output and conditioned model, for
    the silent bug of TFP#535: labels ``[N, 1]`` scored by a distribution of batch shape
    ``[N]`` broadcast to an ``[N, N]`` log-probability (every value against every batch
    element) without any error. A value whose batch dims end in ``batch_shape + [1]``,
    where ``batch_shape`` ends in ``N > 1``, is refused. Every other broadcast keeps
    working, for example a grid of ``M`` values ``[M, 1]`` against a batch of ``[N]``
    with ``M != N`` still gives ``[M, N]``, and so does the ``[N, 1]`` case once the
    caller expands the 1 to ``N`` explicitly.

    Args:
        value_shape: Shape of the value (batch dims, then ``event_shape``).
        batch_shape: The batch shape the value is scored against.
        event_shape: The event shape of the value.
        name: The value's name in the message (``"value"``, ``"x"``, ``"condition"``).
        owner: Who checks, for the message (``"IndependentNormal.log_prob"``, ...).
        against: What ``batch_shape`` is, for the message.

    Raises:
        ValueError: On the trap; the message shows both shapes, the ``[..., N, N]``
            shape it would broadcast to, and the two fixes.

    Example:
        >>> import torch
        >>> check_no_trailing_one(torch.Size([7, 1]), torch.Size([5]), torch.Size([]))
        >>> check_no_trailing_one(torch.Size([5, 1]), torch.Size([5]), torch.Size([]))
        Traceback (most recent call last):
        ...
        ValueError: log_prob: value has shape [5, 1] but the distribution has batch_shape
        [5] and event_shape []; this would broadcast to [5, 5] (every value against every
        batch element). Pass value.squeeze(-1) of shape [5] for one value per batch
        element, or value.expand(5, 5) if every value against every batch element is meant.
    """
    b, e = len(batch_shape), len(event_shape)
    if b == 0 or batch_shape[-1] <= 1 or len(value_shape) < b + 1 + e:
        return
    start = len(value_shape) - e - 1 - b
    if tuple(value_shape[start:]) != (*batch_shape, 1, *event_shape):
        return
    n = batch_shape[-1]
    value_batch = value_shape[: len(value_shape) - e]
    squeezed = [*value_shape[: start + b], *event_shape]
    found = (
        f"{owner}: {name} has shape {list(value_shape)} but {against} "
        f"{list(batch_shape)} and event_shape {list(event_shape)}"
    )
    fix = f"Pass {name}.squeeze({-e - 1}) of shape {squeezed} for one {name} per batch element"
    try:
        broadcast = list(broadcast_shapes(value_batch, batch_shape))
    except RuntimeError:
        raise ValueError(f"{found}; the stray 1 is the trailing-1 trap. {fix}.") from None
    expanded = ", ".join(map(str, [*value_shape[: start + b], n, *event_shape]))
    raise ValueError(
        f"{found}; this would broadcast to {broadcast} (every {name} against every batch "
        f"element). {fix}, or {name}.expand({expanded}) if every {name} against every "
        f"batch element is meant."
    )


def broadcast_condition_batch(
    x_shape: torch.Size,
    event_shape: torch.Size,
    condition_shape: torch.Size,
    condition_event_shape: torch.Size,
    *,
    owner: str = "log_prob",
) -> torch.Size:
    """The batch shape of a conditioned model's ``log_prob(x, condition)``.

    The batch dims of ``x`` (left of ``event_shape``) and of ``condition`` (left of
    ``condition_event_shape``) broadcast together, as in ``torch.distributions``, except
    for the trailing-1 trap (:func:`check_no_trailing_one`), refused both ways: images
    ``[N, 1, *event_shape]`` against ``N`` conditions, and a condition
    ``[N, 1, *condition_event_shape]`` against ``N`` images.

    Args:
        x_shape: Shape of the images (checked to end in ``event_shape`` already).
        event_shape: The model's event shape.
        condition_shape: Shape of the condition (checked already).
        condition_event_shape: The trailing dims of one condition (``[D]`` for a vector).
        owner: Who checks, for the messages.

    Returns:
        The broadcast batch shape.

    Raises:
        ValueError: On the trap, or when the batch dims do not broadcast.
    """
    x_batch = x_shape[: len(x_shape) - len(event_shape)]
    condition_batch = condition_shape[: len(condition_shape) - len(condition_event_shape)]
    check_no_trailing_one(
        x_shape,
        condition_batch,
        event_shape,
        name="x",
        owner=owner,
        against="the condition has batch shape",
    )
    check_no_trailing_one(
        condition_shape,
        x_batch,
        condition_event_shape,
        name="condition",
        owner=owner,
        against="x has batch shape",
    )
    try:
        return broadcast_shapes(x_batch, condition_batch)
    except RuntimeError:
        raise ValueError(
            f"condition: expected batch dims that broadcast with those of x "
            f"{tuple(x_batch)}, found condition shape {tuple(condition_shape)}"
        ) from None


def as_float_tensor(name: str, value: object) -> Tensor:
    """Return ``value`` as a floating-point tensor.

    Args:
        name: The argument name to print in error messages.
        value: A floating-point tensor or a real Python number (converted with the
            default dtype).

    Returns:
        The tensor (the same object when ``value`` already is one).

    Raises:
        TypeError: If ``value`` is neither a floating-point tensor nor a real number.
    """
    if isinstance(value, Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name}: expected a floating-point tensor, found dtype {value.dtype}")
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.get_default_dtype())
    raise TypeError(
        f"{name}: expected a floating-point tensor or a number, found {type(value).__name__}"
    )


def broadcast_params(params: dict[str, Tensor]) -> list[Tensor]:
    """Broadcast parameter tensors against each other.

    Args:
        params: Parameter tensors by argument name, in the order they are returned.

    Returns:
        The broadcast tensors (views), in the order of ``params``.

    Raises:
        ValueError: If the shapes do not broadcast; the message lists every shape.
    """
    shapes = {name: tuple(tensor.shape) for name, tensor in params.items()}
    try:
        return list(torch.broadcast_tensors(*params.values()))
    except RuntimeError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(
            f"expected parameter shapes that broadcast together, found {listed}"
        ) from None


def check_count(name: str, value: object, minimum: int) -> int:
    """Check an integer-count argument such as ``num_bins``.

    Args:
        name: The argument name to print in error messages.
        value: The value given.
        minimum: The smallest allowed value.

    Returns:
        ``value`` as a Python ``int``.

    Raises:
        TypeError: If ``value`` is not an integer (``bool`` is refused).
        ValueError: If ``value < minimum``.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, found {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, found {value}")
    return int(value)


def check_sample_shape(sample_shape: object) -> torch.Size:
    """Return ``sample_shape`` as a ``torch.Size`` of non-negative ints.

    Raises:
        TypeError: If it is not a sequence (a bare int included).
        ValueError: If an entry is not a non-negative int.
    """
    if isinstance(sample_shape, numbers.Integral) or not isinstance(
        sample_shape, (Sequence, torch.Size)
    ):
        raise TypeError(
            f"sample_shape: expected a sequence of ints such as (16,), found {sample_shape!r}"
        )
    shape = list(sample_shape)
    if any(not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 0 for s in shape):
        raise ValueError(f"sample_shape: expected non-negative ints, found {shape}")
    return torch.Size(shape)


def check_condition(
    condition: object, condition_size: int | None, dtype: torch.dtype
) -> Tensor | None:
    """Validate a conditional model's ``condition`` (``[..., condition_size]`` or None).

    Returns:
        The condition in ``dtype``, or None for an unconditional model.

    Raises:
        TypeError: If it is neither None nor a tensor.
        ValueError: If it is missing, unexpected, or its last dimension is not
            ``condition_size``.
    """
    if condition_size is None:
        if condition is not None:
            raise ValueError(
                "condition: this model was built without condition_size, so it takes no "
                f"condition; found a {type(condition).__name__}"
            )
        return None
    if condition is None:
        raise ValueError(
            f"condition: this model was built with condition_size={condition_size}; expected "
            f"a tensor of shape [..., {condition_size}], found None"
        )
    if not isinstance(condition, Tensor):
        raise TypeError(f"condition: expected a torch.Tensor, found {type(condition).__name__}")
    if condition.dim() < 1 or condition.shape[-1] != condition_size:
        raise ValueError(
            f"condition: expected shape [..., {condition_size}] (last dim = condition_size), "
            f"found shape {tuple(condition.shape)}"
        )
    return condition.to(dtype)

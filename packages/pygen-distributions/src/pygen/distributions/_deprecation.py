"""Old spellings of arguments that keep working for a while, with a DeprecationWarning (private).

Three decorators, so that a method's signature shows only the current spelling:
:func:`renamed_keyword` accepts an argument's old keyword, and
:func:`keyword_only_from` accepts positionally what is now keyword-only
(:func:`keyword_only_from_attribute` when the old positions differ between subclasses).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["keyword_only_from", "keyword_only_from_attribute", "renamed_keyword"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed_keyword(old: str, new: str) -> Callable[[F], F]:
    """Accept ``old=`` for the argument now called ``new``, with a DeprecationWarning.

    Raises (from the decorated function):
        TypeError: If both ``old`` and ``new`` are given.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(
                        f"{function.__qualname__}: got both {new}= and its old name {old}=; "
                        f"pass {new}= only"
                    )
                warnings.warn(
                    f"{function.__qualname__}: the argument {old}= is now called {new}=; "
                    f"{old}= will be removed",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _move_positional(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    positional: int,
    names: tuple[str, ...],
    owner: str | None = None,
) -> Any:
    """Call ``function`` with ``args[positional:]`` passed as the keywords ``names``.

    ``owner`` names the method in the messages (default ``function.__qualname__``).
    """
    owner = function.__qualname__ if owner is None else owner
    extra = args[positional:]
    if not extra:
        return function(*args, **kwargs)
    if len(extra) > len(names):
        raise TypeError(
            f"{owner}: expected at most {positional - 1} positional "
            f"arguments after self, then keywords {names}; found {len(args) - 1}"
        )
    moved = names[: len(extra)]
    for name, value in zip(moved, extra, strict=True):
        if name in kwargs:
            raise TypeError(f"{owner}: got {name} both positionally and as {name}=")
        kwargs[name] = value
    spelled = ", ".join(f"{name}=" for name in moved)
    warnings.warn(
        f"{owner}: pass {spelled} by keyword; positional use will be removed",
        DeprecationWarning,
        stacklevel=3,
    )
    return function(*args[:positional], **kwargs)


def keyword_only_from(positional: int, names: tuple[str, ...]) -> Callable[[F], F]:
    """Accept ``names`` (now keyword-only) as positional arguments after the first ``positional``.

    ``positional`` counts ``self``. Positional use warns with a DeprecationWarning.

    Raises (from the decorated function):
        TypeError: If there are more positional arguments than ``names`` can take, or one
            is given both positionally and by keyword.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _move_positional(function, args, kwargs, positional, names)

        return wrapper  # type: ignore[return-value]

    return decorate


def keyword_only_from_attribute(positional: int, attribute: str) -> Callable[[F], F]:
    """As :func:`keyword_only_from`, the old positional ``names`` read from ``self.<attribute>``.

    For a method defined once on a base class whose subclasses took different arguments
    positionally before they became keyword-only (PixelCNN ``method, generator``; MADE
    and the flows ``generator``).
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            names = getattr(args[0], attribute)
            owner = f"{type(args[0]).__name__}.{function.__name__}"
            return _move_positional(function, args, kwargs, positional, names, owner)

        return wrapper  # type: ignore[return-value]

    return decorate

"""Chain several callbacks into one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pygen.train.callback import Callback
from pygen.train.state import TrainerState

__all__ = ["ComposedCallback", "callback_compose"]


class ComposedCallback(Callback):
    """Several callbacks acting as one; what :func:`callback_compose` returns.

    Called as ``composed(trainer)`` (the legacy ``epoch_end_callback=`` /
    ``batch_end_callback=`` style) it calls every member with the trainer, in order. Placed
    in ``callbacks=[...]``, each hook (``on_train_start``, ``on_epoch_start``,
    ``on_batch_end``, ``on_epoch_end``, ``on_train_end``) is forwarded, in order, to the
    members that are :class:`pygen.train.Callback` objects; plain functions have no hooks,
    so in that role they are not called (pass them as ``epoch_end_callback=`` instead).
    ``state_dict`` gathers the members' states by position, so a composition holding an
    ``EarlyStopping`` resumes with it.

    Args:
        callbacks: the callables (plain functions or Callback objects), in calling order.

    Raises:
        TypeError: if ``callbacks`` is not an iterable of callables.

    Example:
        >>> seen = []
        >>> composed = callback_compose([lambda t: seen.append(1), lambda t: seen.append(2)])
        >>> composed(object())
        >>> seen
        [1, 2]
    """

    def __init__(self, callbacks: Iterable[Callable[[Any], Any]]) -> None:
        if isinstance(callbacks, str | bytes) or not isinstance(callbacks, Iterable):
            raise TypeError(
                f"callback_compose: list_callbacks must be a list of callables; "
                f"got {type(callbacks).__name__}"
            )
        members = list(callbacks)
        for index, member in enumerate(members):
            if not callable(member) and not isinstance(member, Callback):
                raise TypeError(
                    f"callback_compose: list_callbacks[{index}] must be callable "
                    f"(a function of the trainer or a pygen.train.Callback); "
                    f"got {type(member).__name__}"
                )
        self.callbacks = members

    def _hooked(self) -> list[Callback]:
        return [member for member in self.callbacks if isinstance(member, Callback)]

    def __call__(self, trainer: TrainerState) -> None:
        """Call each member with ``trainer``, in order.

        Args:
            trainer: the pygen.train trainer.

        Raises:
            TypeError: if a member is a Callback object that is not callable.
        """
        for index, member in enumerate(self.callbacks):
            if not callable(member):
                raise TypeError(
                    f"callback_compose: list_callbacks[{index}] is a "
                    f"{type(member).__name__} with hooks but no __call__, so it cannot be used "
                    f"as a plain epoch_end_callback/batch_end_callback; pass the composition "
                    f"in callbacks=[...] instead"
                )
            member(trainer)

    def on_train_start(self, trainer: TrainerState) -> None:
        """Forward to the members' ``on_train_start``."""
        for member in self._hooked():
            member.on_train_start(trainer)

    def on_epoch_start(self, trainer: TrainerState) -> None:
        """Forward to the members' ``on_epoch_start``."""
        for member in self._hooked():
            member.on_epoch_start(trainer)

    def on_batch_end(self, trainer: TrainerState) -> None:
        """Forward to the members' ``on_batch_end``."""
        for member in self._hooked():
            member.on_batch_end(trainer)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Forward to the members' ``on_epoch_end``."""
        for member in self._hooked():
            member.on_epoch_end(trainer)

    def on_train_end(self, trainer: TrainerState) -> None:
        """Forward to the members' ``on_train_end``."""
        for member in self._hooked():
            member.on_train_end(trainer)

    def output_files(self) -> dict[str, Path]:
        """The members' files, each labelled ``"<position>.<its label>"``."""
        return {
            f"{index}.{label}": path
            for index, member in enumerate(self.callbacks)
            if isinstance(member, Callback)
            for label, path in member.output_files().items()
        }

    def state_dict(self) -> dict[str, Any]:
        """The members' states, keyed by their position in the list.

        Returns:
            ``{"0": state of member 0, ...}`` for the Callback members.
        """
        return {
            str(index): member.state_dict()
            for index, member in enumerate(self.callbacks)
            if isinstance(member, Callback)
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the members' states from :meth:`state_dict`.

        Args:
            state: what :meth:`state_dict` returned.

        Raises:
            ValueError: if ``state`` names a position that holds no Callback member.
        """
        for key, member_state in state.items():
            index = int(key)
            if not 0 <= index < len(self.callbacks) or not isinstance(
                self.callbacks[index], Callback
            ):
                raise ValueError(
                    f"ComposedCallback.load_state_dict: state has an entry for position {key} "
                    f"but the composition holds no Callback there ({len(self.callbacks)} members)"
                )
            self.callbacks[index].load_state_dict(member_state)


def callback_compose(list_callbacks: Iterable[Callable[[Any], Any]]) -> ComposedCallback:
    """One callback that calls each of ``list_callbacks`` in order (the original API).

    Args:
        list_callbacks: plain functions of the trainer and/or ``pygen.train.Callback``
            objects.

    Returns:
        A :class:`ComposedCallback`, usable as ``epoch_end_callback=`` /
        ``batch_end_callback=`` or in ``callbacks=[...]``.

    Raises:
        TypeError: if an element is not callable.

    Example:
        >>> calls = []
        >>> on_epoch_end = callback_compose([calls.append, lambda trainer: calls.append("b")])
        >>> on_epoch_end("trainer")
        >>> calls
        ['trainer', 'b']
    """
    return ComposedCallback(list_callbacks)

"""The base class for objects that hook into the training loop's events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pygen.train.state import TrainerState

__all__ = ["Callback"]


class Callback:
    """Base class for training callbacks: override the hooks you need.

    Every hook receives the trainer, typed as :class:`pygen.train.state.TrainerState`
    (the attributes a hook can read: ``epoch``, ``batch_num``, ``global_step``,
    ``batch_metrics``, ``metrics``, ``val_metrics``, ``history``, ``trainable``,
    ``optimizer``, ...). Hooks run in this order::

        on_train_start
        for each epoch:
            on_epoch_start
            for each optimizer update (accumulate_grad_batches batches):
                (optimizer step) -> on_batch_end
                (every validate_every_n_steps: validation -> on_validation_end)
            (epoch metrics, validation -> on_validation_end, history) -> on_epoch_end
            (scheduler step, trainer checkpoint)
        on_train_end

    Within one event the legacy ``batch_end_callback`` / ``epoch_end_callback`` run first,
    then the ``callbacks`` list in order. A legacy hook is called as ``hook(trainer)`` at
    its one event; when it is itself a ``Callback`` (every pygen-callbacks callback is),
    its ``on_train_start`` and ``on_train_end`` run too, so its checks fail before the
    first step and its writer is flushed at the end. A hook may set
    ``trainer.should_stop = True`` to end training after the current epoch. Under
    ``torchrun`` every rank calls the hooks; a callback that writes files should check
    ``trainer.is_main_process``.

    A callback with state that must survive a resume (counters, best scores) returns it
    from :meth:`state_dict` as a plain dict of numbers, strings, lists and tensors and
    restores it in :meth:`load_state_dict`; the trainer stores it in its checkpoint under
    the callback's :attr:`state_key` (its class name unless overridden; a second callback
    with the same key gets ``"#1"`` appended, and so on), so callbacks without state can be
    added or removed between runs. A callback that writes files names them in
    :meth:`output_files`; the trainer refuses two writers aiming at one file.

    Example:
        >>> from pygen.train.callback import Callback
        >>> class CountBatches(Callback):
        ...     def __init__(self):
        ...         self.count = 0
        ...
        ...     def on_batch_end(self, trainer):
        ...         self.count += 1
        ...
        ...     def state_dict(self):
        ...         return {"count": self.count}
        ...
        ...     def load_state_dict(self, state):
        ...         self.count = state["count"]
        >>> counter = CountBatches()
        >>> counter.load_state_dict({"count": 5})
        >>> counter.state_dict()
        {'count': 5}
    """

    def on_train_start(self, trainer: TrainerState) -> None:
        """Called once when :meth:`train` starts (after a resume has been loaded)."""

    def on_epoch_start(self, trainer: TrainerState) -> None:
        """Called at the start of every epoch, before its first batch."""

    def on_batch_end(self, trainer: TrainerState) -> None:
        """Called after every optimizer step, once the batch metrics are set."""

    def on_validation_end(self, trainer: TrainerState) -> None:
        """Called after each validation, once ``trainer.val_metrics`` is set."""

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Called after the epoch's metrics, validation and history are updated."""

    def on_train_end(self, trainer: TrainerState) -> None:
        """Called once when training finishes normally (not on errors or interrupts)."""

    @property
    def state_key(self) -> str:
        """The key of this callback's state in the trainer's checkpoint (stable over runs).

        Override it (from constructor arguments, never from ``id``) when several callbacks
        of one class keep state, so each finds its own on resume.
        """
        return type(self).__qualname__

    def output_files(self) -> dict[str, Path]:
        """The files this callback writes, by what they are (e.g. ``{"best_filename": ...}``).

        The trainer collects them at construction and refuses two writers (itself
        included: ``checkpoint_path``, ``model_path``) aiming at one file. Default: none.
        """
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Return the callback's resumable state (empty for stateless callbacks)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state returned by :meth:`state_dict`.

        Args:
            state: a dict produced by :meth:`state_dict`.

        Raises:
            TypeError: if ``state`` is not a dict.
        """
        if not isinstance(state, dict):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: state must be a dict, "
                f"got {type(state).__name__}"
            )


class _LegacyCallback(Callback):
    """A plain ``f(trainer)`` of the original API, called at one event.

    A ``Callback`` passed this way also gets its ``on_train_start`` (its checks) and
    ``on_train_end`` (its flush); its other hooks stay with the one event it was given for.
    """

    def __init__(
        self, function: Callable[[Any], Any], event: Literal["on_batch_end", "on_epoch_end"]
    ) -> None:
        self.function = function
        self.event = event

    def output_files(self) -> dict[str, Path]:
        return self.function.output_files() if isinstance(self.function, Callback) else {}

    def on_train_start(self, trainer: TrainerState) -> None:
        if isinstance(self.function, Callback):
            self.function.on_train_start(trainer)

    def on_train_end(self, trainer: TrainerState) -> None:
        if isinstance(self.function, Callback):
            self.function.on_train_end(trainer)

    def on_batch_end(self, trainer: TrainerState) -> None:
        if self.event == "on_batch_end":
            self.function(trainer)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        if self.event == "on_epoch_end":
            self.function(trainer)


HOOK_EVENTS = (
    "on_train_start",
    "on_epoch_start",
    "on_batch_end",
    "on_validation_end",
    "on_epoch_end",
    "on_train_end",
)


def bound_hooks(callbacks: Sequence[Callback]) -> dict[str, tuple[Callable[[Any], Any], ...]]:
    """Per event, the callbacks' handlers in call order, bound once for a run.

    A hook a callback leaves as :class:`Callback`'s no-op is not called at all, so a
    callback that only watches epochs costs nothing per step.

    Example:
        >>> from pygen.train.callback import Callback, bound_hooks
        >>> class Epochs(Callback):
        ...     def on_epoch_end(self, trainer):
        ...         pass
        >>> table = bound_hooks([Epochs()])
        >>> len(table["on_epoch_end"]), len(table["on_batch_end"])
        (1, 0)
    """
    table: dict[str, tuple[Callable[[Any], Any], ...]] = {}
    for event in HOOK_EVENTS:
        default = getattr(Callback, event)
        table[event] = tuple(
            getattr(callback, event)
            for callback in callbacks
            if getattr(type(callback), event, None) is not default
            or event in getattr(callback, "__dict__", {})
        )
    return table

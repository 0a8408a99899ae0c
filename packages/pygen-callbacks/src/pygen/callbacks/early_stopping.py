"""Stop training when a monitored epoch metric stops improving."""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

from pygen.callbacks._common import (
    Mode,
    check_name,
    check_positive_int,
    is_improvement,
    monitored_value,
    resolve_mode,
    trainer_attribute,
)
from pygen.train.callback import Callback
from pygen.train.state import TrainerState

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Sets ``trainer.should_stop`` once ``monitor`` has not improved for ``patience`` epochs.

    At the end of every epoch the callback reads ``trainer.metrics[monitor]``, which the
    trainer fills (validation included) before ``on_epoch_end``, so the decision is never
    one epoch behind. A value improves on the best so far when it is larger by more than
    ``min_delta`` (``mode="max"``) or smaller by more than ``min_delta`` (``mode="min"``);
    ``mode="auto"`` picks ``"max"`` for names ending in ``log_prob`` or ``accuracy`` and
    ``"min"`` for ``bits_per_dim``, ``loss`` or ``nll``. After ``patience`` epochs in a row
    without improvement it sets ``trainer.should_stop = True`` and the trainer ends after
    the current epoch. With ``check_finite`` a NaN or infinite value stops training at once.

    Every rank runs it (under ``torchrun`` the trainer's metrics are the same on every
    rank, so all ranks stop together). Its counters are saved in the trainer's checkpoint
    through :meth:`state_dict` and restored on resume.

    Args:
        monitor: the metric name, e.g. ``"val_log_prob"`` (needs the trainer's
            ``validation_dataset``) or ``"log_prob"``.
        mode: ``"auto"``, ``"max"`` or ``"min"``.
        patience: epochs without improvement before stopping.
        min_delta: the smallest change that counts as an improvement (``>= 0``).
        check_finite: stop as soon as the metric is NaN or infinite.

    Attributes:
        best_score: the best value seen (None before the first epoch).
        best_epoch: the epoch of ``best_score``.
        wait_count: epochs since the last improvement.
        stopped_epoch: the epoch at which it asked to stop (None if it has not).
        stop_reason: why it asked to stop (empty if it has not).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for an unknown ``mode`` (the message lists the valid ones), a
            ``patience`` below 1, a negative ``min_delta``; on use, if ``monitor`` is not
            among the trainer's metrics (the message lists those that are).

    Example:
        >>> stopper = EarlyStopping("val_log_prob", patience=2)
        >>> trainer = type("T", (), {"should_stop": False})()
        >>> for epoch, value in enumerate([-3.0, -2.0, -2.5, -2.1]):
        ...     trainer.epoch, trainer.metrics = epoch, {"val_log_prob": value}
        ...     stopper(trainer)
        ...     print(epoch, stopper.wait_count, trainer.should_stop)
        0 0 False
        1 0 False
        2 1 False
        3 2 True
    """

    def __init__(
        self,
        monitor: str = "val_log_prob",
        *,
        mode: Mode = "auto",
        patience: int = 3,
        min_delta: float = 0.0,
        check_finite: bool = True,
    ) -> None:
        owner = "EarlyStopping"
        self.monitor = check_name(owner, "monitor", monitor)
        self.mode: Literal["max", "min"] = resolve_mode(owner, self.monitor, mode)
        self.patience = check_positive_int(owner, "patience", patience)
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise TypeError(f"{owner}: min_delta must be a number; got {type(min_delta).__name__}")
        if not (min_delta >= 0 and math.isfinite(min_delta)):
            raise ValueError(f"{owner}: min_delta must be a finite number >= 0; got {min_delta}")
        if not isinstance(check_finite, bool):
            raise TypeError(
                f"{owner}: check_finite must be a bool; got {type(check_finite).__name__}"
            )
        self.min_delta = float(min_delta)
        self.check_finite = check_finite
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.wait_count = 0
        self.stopped_epoch: int | None = None
        self.stop_reason = ""

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Update the counters and ask the trainer to stop if patience ran out."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Read ``trainer.metrics[monitor]`` and set ``trainer.should_stop`` when done.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            ValueError: if ``monitor`` is not among ``trainer.metrics``.
        """
        score = monitored_value("EarlyStopping", trainer, self.monitor)
        epoch = int(trainer_attribute("EarlyStopping", trainer, "epoch"))
        if self.check_finite and not math.isfinite(score):
            self._stop(trainer, epoch, f"{self.monitor} = {score} is not finite")
            return
        if is_improvement(score, self.best_score, self.mode, self.min_delta):
            self.best_score = score
            self.best_epoch = epoch
            self.wait_count = 0
            return
        self.wait_count += 1
        if self.wait_count >= self.patience:
            self._stop(
                trainer,
                epoch,
                f"{self.monitor} did not improve on {self.best_score} (epoch {self.best_epoch}) "
                f"by more than {self.min_delta} for {self.wait_count} epoch(s)",
            )

    def _stop(self, trainer: TrainerState, epoch: int, reason: str) -> None:
        trainer.should_stop = True
        self.stopped_epoch = epoch
        self.stop_reason = reason

    @property
    def state_key(self) -> str:
        """``EarlyStopping[monitor=..., mode=...]``: two with other monitors keep apart."""
        return f"EarlyStopping[monitor={self.monitor}, mode={self.mode}]"

    def state_dict(self) -> dict[str, Any]:
        """The counters, for the trainer's checkpoint.

        Returns:
            ``{"monitor", "mode", "best_score", "best_epoch", "wait_count",
            "stopped_epoch", "stop_reason"}``.
        """
        return {
            "monitor": self.monitor,
            "mode": self.mode,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "wait_count": self.wait_count,
            "stopped_epoch": self.stopped_epoch,
            "stop_reason": self.stop_reason,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the counters saved by :meth:`state_dict`.

        Args:
            state: what :meth:`state_dict` returned.

        Raises:
            TypeError: if ``state`` is not a dict.
            ValueError: if it was saved for another ``monitor`` or ``mode``, or lacks keys.
        """
        super().load_state_dict(state)
        missing = sorted(set(self.state_dict()) - set(state))
        if missing:
            raise ValueError(f"EarlyStopping.load_state_dict: state lacks keys {missing}")
        if (state["monitor"], state["mode"]) != (self.monitor, self.mode):
            raise ValueError(
                f"EarlyStopping.load_state_dict: state was saved for monitor={state['monitor']!r}, "
                f"mode={state['mode']!r}; this callback has monitor={self.monitor!r}, "
                f"mode={self.mode!r}"
            )
        self.best_score = None if state["best_score"] is None else float(state["best_score"])
        self.best_epoch = None if state["best_epoch"] is None else int(state["best_epoch"])
        self.wait_count = int(state["wait_count"])
        self.stopped_epoch = None if state["stopped_epoch"] is None else int(state["stopped_epoch"])
        self.stop_reason = str(state["stop_reason"])

"""The trainer's :class:`~pygen.train.state.TrainerState` properties: what a callback reads.

The run counters live in one :class:`~pygen.train._run_state.RunState`, the epoch's
metrics in :class:`~pygen.train._metrics.RunningMetrics` (per-batch tensors stay on the
device until read) and the records in a :class:`~pygen.train.history.MetricsHistory`;
these properties read them, flushing the pending batches first where a figure depends on
them.
"""

from __future__ import annotations

import math

from torch import nn

from pygen.train._metrics import RunningMetrics
from pygen.train._run_state import RunState
from pygen.train.history import MetricsHistory
from pygen.train.objective import Objective

__all__: list[str] = []


class TrainerStateView:
    """The read side of a trainer's state; the trainer sets the attributes annotated here."""

    trainable: nn.Module
    objective: Objective
    _run: RunState
    _running: RunningMetrics
    _history: MetricsHistory

    @property
    def model(self) -> nn.Module:
        """Alias of ``trainable``."""
        return self.trainable

    @property
    def epoch(self) -> int:
        """0-based index of the current epoch."""
        return self._run.epoch

    @property
    def epoch_num(self) -> int:
        """Alias of ``epoch``."""
        return self._run.epoch

    @property
    def batch_num(self) -> int:
        """Batches done over the run (skipped ones included); 1 after the first."""
        return self._run.batch_num

    @property
    def global_step(self) -> int:
        """Optimizer updates taken."""
        return self._run.global_step

    @property
    def should_stop(self) -> bool:
        """Set True to stop after the current epoch (kept in the checkpoint)."""
        return self._run.should_stop

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        self._run.should_stop = bool(value)

    @property
    def metrics(self) -> dict[str, float]:
        """The last finished epoch's metrics."""
        return self._run.metrics

    @property
    def val_metrics(self) -> dict[str, float]:
        """The last validation's ``val_*`` metrics."""
        return self._run.val_metrics

    @property
    def history(self) -> MetricsHistory:
        """Every batch's and epoch's metrics (read from the device when accessed)."""
        self._running.flush(self._history)
        return self._history

    @property
    def batch_metrics(self) -> dict[str, float]:
        """The last update's mean per example of each metric (one read from the device)."""
        self._running.flush(self._history)
        return self._running.last

    @property
    def log_prob_item(self) -> float:
        """The last update's mean log-likelihood (NaN if the objective reports none)."""
        return self.batch_metrics.get("log_prob", math.nan)

    @property
    def total_log_prob(self) -> float:
        """The sum of this epoch's batch means of the log-likelihood (NaN if none).

        NaN unless the objective is an exact log-likelihood (named ``"log_prob"``), so a
        bound is never reported as one.
        """
        self._running.flush(self._history)
        if self.objective.name != "log_prob":
            return math.nan
        return self._running.total_objective

    @property
    def batch_len(self) -> int:
        """Updates summed into this epoch's metrics so far."""
        self._running.flush(self._history)
        return self._running.batches

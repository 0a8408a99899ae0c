"""Signals deferred to the next step boundary: Ctrl-C (SIGINT), SIGTERM and SIGUSR1.

SLURM, Kubernetes and ``docker stop`` send SIGTERM (SLURM's ``--signal`` often SIGUSR1)
some time before they kill a job. While :meth:`train` runs, these signals only record
that a stop was asked for; the trainer finishes the current step, writes its checkpoint
and stops. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__: list[str] = []

STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGUSR1") if hasattr(signal, name)
)


class DeferredSignals:
    """Records the first of :data:`STOP_SIGNALS` received (in the main thread only)."""

    def __init__(self) -> None:
        self.received = 0  # the signal number, 0 for none
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if not self.received:
            self.received = signum

    def __enter__(self) -> DeferredSignals:
        self.received = 0
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

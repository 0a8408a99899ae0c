"""Signals deferred to the next step boundary: Ctrl-C (SIGINT), SIGTERM and SIGUSR1.

SLURM, Kubernetes and ``docker stop`` send SIGTERM (SLURM's ``--signal`` often SIGUSR1)
some time before they kill a job. While :meth:`train` runs, these signals only record
that a stop was asked for; the trainer finishes the current step, writes its checkpoint
and stops. A second Ctrl-C interrupts at once.

Schedulers signal the whole process group, so DataLoader worker processes get the
signal too. torch's workers die of SIGTERM (its handler re-raises it unless the parent
sent it) and of SIGUSR1 (the default action), and the main process then raises
``DataLoader worker ... killed by signal`` from its SIGCHLD handler, at whatever line
it was running: no checkpoint. So the stop is the main process's alone: the trainer's
loaders start their workers with these signals blocked (:func:`stop_signals_blocked`
around the start; a child inherits its parent's signal mask, so there is no moment at
which a worker can die of one), and :func:`shield_worker`, their ``worker_init_fn``,
keeps them blocked and lets one thread take them: a SIGTERM from the worker's parent
(``DataLoader``'s own ``terminate()`` of a worker that would not exit) ends the worker
as torch's handler does, any other is dropped. A worker killed by something else
(SIGKILL, a crash) still fails the run as in torch: its error can interrupt the main
process mid-update, so no checkpoint is written from that state.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

__all__: list[str] = []

STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGUSR1") if hasattr(signal, name)
)
# the environment variables of the schedulers and launchers that preempt with a signal
SCHEDULER_VARIABLES = (
    "SLURM_JOB_ID",
    "PBS_JOBID",
    "LSB_JOBID",
    "KUBERNETES_SERVICE_HOST",
    "TORCHELASTIC_RUN_ID",
)
_CAN_MASK = hasattr(signal, "pthread_sigmask") and len(STOP_SIGNALS) == 3


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


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Block :data:`STOP_SIGNALS` in this thread meanwhile (start DataLoader workers here).

    A signal that arrives meanwhile is taken by another thread or waits until the end;
    either way the process still records it.
    """
    if not _CAN_MASK:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _take_stop_signals(parent: int) -> None:
    while True:
        info = signal.sigwaitinfo(STOP_SIGNALS)
        if info.si_signo == signal.SIGTERM and info.si_pid == parent:
            os._exit(0)


def shield_worker(worker_id: int) -> None:
    """The trainer's DataLoader ``worker_init_fn``: stop signals are left to the trainer.

    Keeps :data:`STOP_SIGNALS` blocked in the worker (they were blocked at its start) and
    starts a daemon thread that takes them: SIGTERM from the parent process ends the
    worker (exit status 0, as torch's own handler does), anything else is dropped.
    Where ``sigwaitinfo`` is missing (macOS) they are ignored instead. Programs the
    worker starts inherit the blocked (or ignored) signals.

    Args:
        worker_id: the worker's index (unused; DataLoader passes it).
    """
    if not _CAN_MASK:
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    if hasattr(signal, "sigwaitinfo"):
        thread = threading.Thread(
            target=_take_stop_signals,
            args=(os.getppid(),),
            name="pygen-stop-signals",
            daemon=True,
        )
        thread.start()
        return
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def warn_unsaved_preemption(name: str, env: dict[str, str] | None = None) -> None:
    """Warn once, at the start of training under a scheduler, that a preemption loses the run.

    Args:
        name: the trainer's class name.
        env: the environment to read (default: ``os.environ``).
    """
    source = os.environ if env is None else env
    found = [variable for variable in SCHEDULER_VARIABLES if source.get(variable)]
    if not found:
        return
    warnings.warn(
        f"{name}: no checkpoint_path, so if this job is preempted (SIGTERM or SIGUSR1; "
        f"{found[0]} is set) the training is lost; pass checkpoint_path= to resume instead",
        RuntimeWarning,
        stacklevel=3,
    )


def report_unsaved(signal_number: int, step: int) -> None:
    """Say on stderr that a stop signal ends a run that has no checkpoint to resume from."""
    name = signal.Signals(signal_number).name
    sys.stderr.write(
        f"pygen.train: {name} after step {step}: no checkpoint_path was set, so nothing was "
        "saved; this run cannot be resumed\n"
    )
    sys.stderr.flush()

"""The one line a trainer prints when the run it resumed had already finished."""

from __future__ import annotations

import sys
from pathlib import Path

from pygen.train._run_state import RunState

__all__: list[str] = []


def report_finished_run(name: str, run: RunState, reason: str | None, path: Path | None) -> bool:
    """Say on stderr that :meth:`train` has nothing to do: the run reached its limit before.

    A fresh run (no batch done yet) that starts at its limit, such as ``max_epoch=0``, is
    not reported.

    Args:
        name: the trainer's class name.
        run: the run counters after resuming.
        reason: the limit already reached (``"max_epoch"``, ``"max_steps"``,
            ``"should_stop"``), or None when training goes on.
        path: the checkpoint the run was resumed from, if any.

    Returns:
        Whether the line was written.
    """
    if reason is None or run.batch_num == 0:
        return False
    source = f"the run resumed from {path}" if path is not None else "this trainer's run"
    sys.stderr.write(
        f"pygen.train: {name}: {source} has already finished ({reason} reached after "
        f"{run.epochs_done} epochs, {run.global_step} steps); nothing to train: raise "
        "max_epoch or max_steps to train on, or remove the checkpoint to start over\n"
    )
    sys.stderr.flush()
    return True

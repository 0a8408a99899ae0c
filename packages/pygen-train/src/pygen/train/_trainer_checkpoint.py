"""What a trainer checkpoint holds, written and restored in one place.

The checkpoint is a plain dict (loadable with ``torch.load(weights_only=True)``): model,
optimizer (and its class name), scheduler, grad-scaler and EMA states, all RNG states,
the run counters, the loader settings that fix a mid-epoch resume point, the epoch's
running sums, the metrics history and the callbacks' states by state key. Restoring runs
every check of :mod:`pygen.train._checkpoint_checks` first, so a refused resume loads
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygen.train._checkpoint_checks import (
    CHECKPOINT_FORMAT,
    callback_states,
    check_resume,
    load_callback_states,
)
from pygen.train.checkpoint import safe_load
from pygen.train.seeding import get_rng_state, set_rng_state

__all__: list[str] = []


def loader_settings(trainer: Any) -> dict[str, int]:
    """What decides which examples a batch number stands for."""
    return {"batch_size": trainer.batch_size, "world_size": trainer.world_size}


def trainer_state(trainer: Any) -> dict[str, Any]:
    """The trainer's whole resumable state (flush its pending metrics first)."""
    optional = {"scheduler": trainer.scheduler, "scaler": trainer._scaler, "ema": trainer.ema}
    return {
        "format": CHECKPOINT_FORMAT,
        "trainable": trainer.trainable.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "optimizer_class": type(trainer.optimizer).__qualname__,
        "loader": loader_settings(trainer),
        **{key: None if part is None else part.state_dict() for key, part in optional.items()},
        "rng": get_rng_state(),
        **trainer._run.state_dict(),
        "running": trainer._running.state_dict(),
        "history": trainer._history.state_dict(),
        "callbacks": callback_states(trainer.callbacks),
    }


def restore_trainer(trainer: Any, state: Any) -> None:
    """Check ``state`` against ``trainer``, then restore it (see the module docs)."""
    check_resume(
        state,
        callbacks=trainer.callbacks,
        ema=trainer.ema,
        optimizer=trainer.optimizer,
        objective_name=trainer.objective.name,
        loader=loader_settings(trainer),
    )
    trainer.trainable.load_state_dict(state["trainable"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    for key, part in (("scheduler", trainer.scheduler), ("scaler", trainer._scaler)):
        if part is not None and state[key] is not None:
            part.load_state_dict(state[key])
    if trainer.ema is not None:
        trainer.ema.load_state_dict(state["ema"])
    trainer._run.load_state_dict(state)
    trainer._running.load_state_dict(state["running"])
    trainer._history.load_state_dict(state["history"])
    load_callback_states(trainer.callbacks, state["callbacks"])
    set_rng_state(state["rng"])


def resume(trainer: Any, path: Path) -> None:
    """Restore ``trainer`` from the checkpoint file ``path``, naming it in any refusal."""
    try:
        trainer.load_state_dict(safe_load(path, map_location="cpu"))
    except ValueError as error:
        raise type(error)(f"cannot resume from {str(path)!r}: {error}") from error

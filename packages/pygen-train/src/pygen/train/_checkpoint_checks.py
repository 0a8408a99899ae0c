"""Checks of a trainer checkpoint against the trainer that resumes from it.

Everything here runs before anything is loaded, so a refused resume leaves the model,
optimizer and callbacks as they were. Each check names what the checkpoint holds and what
this trainer has. Callback states are keyed by :attr:`Callback.state_key`, not by
position; format 2 checkpoints (a positional list) still load when the count matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from pygen.train.callback import Callback
from pygen.train.ema import ExponentialMovingAverage

__all__: list[str] = []

CHECKPOINT_FORMAT = "pygen.train.checkpoint/3"
_READABLE_FORMATS = ("pygen.train.checkpoint/2", CHECKPOINT_FORMAT)


def keyed_callbacks(callbacks: Sequence[Callback]) -> dict[str, Callback]:
    """Each callback by its state key; repeats of a key get ``#1``, ``#2``, ... appended."""
    counts: dict[str, int] = {}
    keyed: dict[str, Callback] = {}
    for callback in callbacks:
        base = callback.state_key
        count = counts.get(base, 0)
        counts[base] = count + 1
        keyed[base if count == 0 else f"{base}#{count}"] = callback
    return keyed


def callback_states(callbacks: Sequence[Callback]) -> dict[str, dict[str, Any]]:
    """The non-empty states of the callbacks, by state key (what the checkpoint holds)."""
    states = {key: callback.state_dict() for key, callback in keyed_callbacks(callbacks).items()}
    return {key: state for key, state in states.items() if state}


def load_callback_states(callbacks: Sequence[Callback], saved: Any) -> None:
    """Restore what :func:`callback_states` saved (or a format 2 positional list)."""
    if isinstance(saved, list):
        for callback, state in zip(callbacks, saved, strict=True):
            callback.load_state_dict(state)
        return
    keyed = keyed_callbacks(callbacks)
    for key, state in saved.items():
        keyed[key].load_state_dict(state)


def _check_callbacks(callbacks: Sequence[Callback], saved: Any) -> None:
    if isinstance(saved, list):
        if len(saved) != len(callbacks):
            raise ValueError(
                f"the checkpoint holds the state of {len(saved)} callback(s) but this "
                f"trainer has {len(callbacks)}; pass the same callbacks to resume"
            )
        return
    keys = keyed_callbacks(callbacks)
    missing = sorted(set(saved) - set(keys))
    if missing:
        raise ValueError(
            f"the checkpoint holds the state of callback(s) {missing} but this trainer has "
            f"no callback with that state_key (it has {sorted(keys)}); pass them to resume "
            "(callbacks without state may be added or left out)"
        )


def _check_ema(ema: ExponentialMovingAverage | None, saved: Any) -> None:
    if (saved is None) != (ema is None):
        raise ValueError(
            "the checkpoint was written "
            + ("without" if saved is None else f"with EMA weights (ema_decay={saved['decay']})")
            + " but this trainer has "
            + (f"ema_decay={ema.decay}" if ema is not None else "none; pass the same ema_decay")
        )
    if ema is not None and float(saved["decay"]) != ema.decay:
        raise ValueError(
            f"the checkpoint's EMA has ema_decay={saved['decay']} but this trainer has "
            f"ema_decay={ema.decay}; a resume keeps the decay, so pass "
            f"ema_decay={saved['decay']} (or start a new run to use another)"
        )


def _check_optimizer(
    optimizer: torch.optim.Optimizer, saved: dict[str, Any], saved_name: str | None
) -> None:
    name = type(optimizer).__qualname__
    if saved_name is not None and saved_name != name:
        raise ValueError(
            f"the checkpoint's optimizer is {saved_name} but this trainer's is {name}; its "
            f"state ({saved_name}'s settings and moments) does not fit {name}: resume with "
            f"{saved_name}, or start a new run"
        )
    groups = saved.get("param_groups", [])
    if len(groups) != len(optimizer.param_groups):
        raise ValueError(
            f"the checkpoint's optimizer has {len(groups)} parameter group(s) but this "
            f"trainer's {name} has {len(optimizer.param_groups)}; resume with the same optimizer"
        )
    for index, (group, current) in enumerate(zip(groups, optimizer.param_groups, strict=True)):
        settings, expected = sorted(set(group) - {"params"}), sorted(set(current) - {"params"})
        if settings != expected:
            raise ValueError(
                f"the checkpoint's optimizer (param group {index}) has the settings {settings} "
                f"but this trainer's {name} has {expected}: it was written by another "
                f"optimizer class; resume with that one, or start a new run"
            )


def check_metric_names(saved: Sequence[str], current: Sequence[str]) -> None:
    """Refuse to continue a run's metrics under names its objective no longer returns."""
    if saved and tuple(saved) != tuple(current):
        raise ValueError(
            f"the checkpoint's run logged the metrics {list(saved)} but this trainer's "
            f"objective gives {list(current)}; resume with the same objective (the history "
            "would mix different quantities under one name), or start a new run with "
            "another checkpoint_path"
        )


def check_resume(
    state: Any,
    *,
    callbacks: Sequence[Callback],
    ema: ExponentialMovingAverage | None,
    optimizer: torch.optim.Optimizer,
    objective_name: str,
    loader: dict[str, int],
) -> None:
    """Raise ValueError if ``state`` cannot resume this trainer; nothing is loaded here."""
    if not isinstance(state, dict) or state.get("format") not in _READABLE_FORMATS:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"state must be a pygen.train checkpoint with format {CHECKPOINT_FORMAT!r}, "
            f"got format {found!r}"
        )
    _check_callbacks(callbacks, state["callbacks"])
    _check_ema(ema, state["ema"])
    _check_optimizer(optimizer, state["optimizer"], state.get("optimizer_class"))
    names = state["running"]["names"]
    if names and names[0] != objective_name:
        check_metric_names(names, (objective_name, "..."))
    saved_loader = state.get("loader")
    if state["batch_in_epoch"] and saved_loader is not None and saved_loader != loader:
        saved_text = ", ".join(f"{key}={value}" for key, value in saved_loader.items())
        text = ", ".join(f"{key}={value}" for key, value in loader.items())
        raise ValueError(
            f"the checkpoint stopped inside epoch {state['epoch']} (after batch "
            f"{state['batch_in_epoch']}) with {saved_text}, but this trainer has {text}: the "
            "rest of that epoch would train some examples twice and skip others. Resume "
            f"with {saved_text}; change them at an epoch boundary (a checkpoint written at "
            "an epoch end resumes with any batch_size)"
        )

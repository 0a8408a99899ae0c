"""The trainer's run counters: one dataclass whose ``state_dict`` is derived from its fields."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any

__all__: list[str] = []


@dataclass
class RunState:
    """Where a run is; everything here goes into the checkpoint as it is.

    Attributes:
        epoch: 0-based index of the current (or last) epoch.
        epochs_done: epochs finished.
        batch_in_epoch: batches of the current epoch done (its resume point).
        batch_num: batches done over the run (skipped ones included).
        global_step: optimizer updates taken (an update is ``accumulate_grad_batches``
            batches).
        should_stop: stop after the current epoch.
        shuffle_seed: the base seed of the epochs' shuffles.
        metrics: the last finished epoch's metrics.
        val_metrics: the last validation's metrics (``val_*``).
    """

    epoch: int = 0
    epochs_done: int = 0
    batch_in_epoch: int = 0
    batch_num: int = 0
    global_step: int = 0
    should_stop: bool = False
    shuffle_seed: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    val_metrics: dict[str, float] = field(default_factory=dict)

    def state_dict(self) -> dict[str, Any]:
        """Every field, copied (plain numbers and dicts of numbers)."""
        return {item.name: copy.deepcopy(getattr(self, item.name)) for item in fields(self)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`.

        Raises:
            ValueError: if a field is missing.
        """
        missing = [item.name for item in fields(self) if item.name not in state]
        if missing:
            raise ValueError(f"the checkpoint's run state lacks {missing}")
        for item in fields(self):
            setattr(self, item.name, copy.deepcopy(state[item.name]))

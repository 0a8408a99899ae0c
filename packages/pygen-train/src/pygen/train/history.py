"""The record of per-batch and per-epoch metrics kept by the trainer."""

from __future__ import annotations

from typing import Any

__all__ = ["MetricsHistory"]


class MetricsHistory:
    """Per-batch and per-epoch metrics, as plain lists of dicts of numbers.

    ``batches[i]`` is ``{"epoch": int, "batch": int, **batch_metrics}`` where ``batch`` is
    the global batch number (1 after the first batch). ``epochs[i]`` is
    ``{"epoch": int, **metrics}``. Unlike Lightning or Ignite, which keep only the latest
    values, the whole history is kept, saved in checkpoints and restored on resume.

    Attributes:
        batches: one dict per training batch.
        epochs: one dict per finished epoch.

    Example:
        >>> from pygen.train.history import MetricsHistory
        >>> history = MetricsHistory()
        >>> history.add_epoch({"epoch": 0, "log_prob": -2.5})
        >>> history.add_epoch({"epoch": 1, "log_prob": -1.5})
        >>> history.epoch_values("log_prob")
        [-2.5, -1.5]
    """

    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.epochs: list[dict[str, Any]] = []

    def add_batch(self, record: dict[str, Any]) -> None:
        """Append one batch's record.

        Args:
            record: a dict of numbers (``epoch``, ``batch`` and metrics).
        """
        self.batches.append(record)

    def add_epoch(self, record: dict[str, Any]) -> None:
        """Append one epoch's record.

        Args:
            record: a dict of numbers (``epoch`` and metrics).
        """
        self.epochs.append(record)

    def epoch_values(self, name: str) -> list[float]:
        """The values of one metric over the epochs that recorded it.

        Args:
            name: a metric name such as ``"log_prob"`` or ``"val_accuracy"``.

        Returns:
            The metric's values in epoch order (epochs without it are left out).

        Raises:
            KeyError: if no epoch recorded ``name``; the message lists the known names.
        """
        values = [record[name] for record in self.epochs if name in record]
        if not values:
            known = sorted({key for record in self.epochs for key in record})
            raise KeyError(f"epoch_values: no epoch recorded metric {name!r}; known: {known}")
        return values

    def state_dict(self) -> dict[str, Any]:
        """Return the history as a plain dict (saved in trainer checkpoints)."""
        return {
            "batches": [dict(record) for record in self.batches],
            "epochs": [dict(record) for record in self.epochs],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace the history with one returned by :meth:`state_dict`.

        Args:
            state: a dict with ``"batches"`` and ``"epochs"`` lists.

        Raises:
            ValueError: if ``state`` lacks either list.
        """
        if not isinstance(state, dict) or not {"batches", "epochs"} <= set(state):
            found = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"MetricsHistory.load_state_dict: state must be a dict with 'batches' and "
                f"'epochs', got {found}"
            )
        self.batches = [dict(record) for record in state["batches"]]
        self.epochs = [dict(record) for record in state["epochs"]]

    def __repr__(self) -> str:
        return f"MetricsHistory(batches={len(self.batches)}, epochs={len(self.epochs)})"

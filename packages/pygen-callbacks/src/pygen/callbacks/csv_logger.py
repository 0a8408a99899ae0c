"""Write the epoch metrics to a CSV file, one row per epoch."""

from __future__ import annotations

import csv
import io
import numbers
import os
from pathlib import Path
from typing import Any

from pygen.callbacks._common import (
    ensure_writable_folder,
    is_main_process,
    trainer_attribute,
)
from pygen.train.callback import Callback
from pygen.train.checkpoint import atomic_write
from pygen.train.state import TrainerState

__all__ = ["CSVLogger"]

_OWNER = "CSVLogger"


def _format(value: Any) -> str:
    """A cell: numbers with full precision (``repr`` round-trips floats), others as str."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


class CSVLogger(Callback):
    """Appends ``{"epoch": trainer.epoch, **trainer.metrics}`` to a CSV file every epoch.

    The header is ``epoch`` followed by the metric names in the order the trainer first
    reported them. Each row is appended and ``fsync``-ed, so a killed run keeps every
    finished epoch. If a later epoch brings a metric the header lacks, the file is rewritten
    with the wider header (older rows get empty cells) with
    :func:`pygen.train.checkpoint.atomic_write` (a temporary file, ``fsync``,
    ``os.replace``, the folder ``fsync``-ed), never leaving a half-written file. Floats are
    written with ``repr`` and so read back as exactly the values in ``trainer.history``.

    With ``append=True`` (the default) an existing file is continued: its rows for epochs
    before the first epoch this run writes are kept and rows for that epoch or later (left
    by a run that was interrupted and is now resumed from an earlier checkpoint) are
    dropped, so no epoch appears twice. With ``append=False`` an existing file is replaced
    at the first write. Only the main process writes.

    Args:
        path: the CSV file; its folder is created if missing.
        append: continue an existing file instead of replacing it.

    Raises:
        TypeError: if ``path`` is not a ``str`` or ``os.PathLike`` or ``append`` not a bool.
        ValueError: if the folder cannot be written or ``path`` is a folder; on use, if an
            existing file to append to has no ``epoch`` column.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "metrics.csv"
        >>> logger = CSVLogger(path)
        >>> trainer = type("T", (), {})()
        >>> for epoch in range(2):
        ...     trainer.epoch, trainer.metrics = epoch, {"log_prob": -1.5 + epoch}
        ...     logger(trainer)
        >>> print(path.read_text(), end="")
        epoch,log_prob
        0,-1.5
        1,-0.5
    """

    def __init__(self, path: str | os.PathLike[str], *, append: bool = True) -> None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(
                f"{_OWNER}: path must be a str or os.PathLike; got {type(path).__name__}"
            )
        if not isinstance(append, bool):
            raise TypeError(f"{_OWNER}: append must be a bool; got {type(append).__name__}")
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"{_OWNER}: path must be a file, not a folder; got {str(self.path)!r}")
        ensure_writable_folder(_OWNER, "path's folder", self.path.parent)
        self.append = append
        self.fieldnames: list[str] = []
        self._started = False

    def output_files(self) -> dict[str, Path]:
        """The CSV file, so the trainer refuses another writer of it."""
        return {"path": self.path}

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Write the epoch's row."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Write ``{"epoch": trainer.epoch, **trainer.metrics}`` as one row.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            ValueError: if the existing file to continue has no ``epoch`` column.
        """
        if not is_main_process(trainer):
            return
        epoch = int(trainer_attribute(_OWNER, trainer, "epoch"))
        metrics = trainer_attribute(_OWNER, trainer, "metrics")
        row = {"epoch": _format(epoch)}
        row.update({str(key): _format(value) for key, value in metrics.items() if key != "epoch"})
        if not self._started:
            self._start(epoch, row)
            self._started = True
            return
        if set(row) <= set(self.fieldnames):
            self._append(row)
        else:
            rows = self._read()[1]
            self._rewrite(self._widen(self.fieldnames, row), [*rows, row])

    def _read(self) -> tuple[list[str], list[dict[str, str]]]:
        with self.path.open(newline="") as stream:
            reader = csv.DictReader(stream)
            rows = list(reader)
            return list(reader.fieldnames or []), rows

    @staticmethod
    def _widen(fieldnames: list[str], row: dict[str, str]) -> list[str]:
        return [*fieldnames, *(key for key in row if key not in fieldnames)]

    def _start(self, epoch: int, row: dict[str, str]) -> None:
        kept: list[dict[str, str]] = []
        fieldnames = ["epoch"]
        if self.append and self.path.is_file() and self.path.stat().st_size > 0:
            fieldnames, rows = self._read()
            if "epoch" not in fieldnames:
                raise ValueError(
                    f"{_OWNER}: path must be a CSV with an 'epoch' column to append to; "
                    f"{str(self.path)!r} has columns {fieldnames} (use append=False to replace it)"
                )
            kept = [existing for existing in rows if _epoch_before(existing["epoch"], epoch)]
        self._rewrite(self._widen(fieldnames, row), [*kept, row])

    def _append(self, row: dict[str, str]) -> None:
        with self.path.open("a", newline="") as stream:
            csv.DictWriter(stream, fieldnames=self.fieldnames, restval="").writerow(row)
            stream.flush()
            os.fsync(stream.fileno())

    def _rewrite(self, fieldnames: list[str], rows: list[dict[str, str]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fieldnames, restval="")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(self.path, lambda stream: stream.write(buffer.getvalue().encode()))
        self.fieldnames = fieldnames


def _epoch_before(cell: str | None, epoch: int) -> bool:
    """Whether a row's ``epoch`` cell names an epoch before ``epoch`` (bad cells: no)."""
    try:
        return int(cell or "") < epoch
    except ValueError:
        return False

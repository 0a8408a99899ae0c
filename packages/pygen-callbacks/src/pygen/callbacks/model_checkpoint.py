"""Save the model of the best epoch (by a monitored metric) and/or of the last epoch."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from pygen.callbacks._common import (
    Mode,
    check_name,
    ensure_writable_folder,
    is_improvement,
    is_main_process,
    monitored_value,
    numeric_metrics,
    resolve_mode,
    trainer_attribute,
    unwrap_model,
)
from pygen.train.callback import Callback
from pygen.train.checkpoint import atomic_save, safe_load
from pygen.train.state import TrainerState

__all__ = ["ModelCheckpoint"]

_OWNER = "ModelCheckpoint"


class ModelCheckpoint(Callback):
    """Keeps the best epoch's model by a monitored metric and/or the last epoch's model.

    At the end of every epoch the callback reads ``trainer.metrics[monitor]`` (filled by the
    trainer, validation included, before ``on_epoch_end``). When the value beats the best so
    far by more than ``min_delta`` (larger for ``mode="max"``, smaller for ``"min"``;
    ``"auto"`` decides from the name as in :class:`EarlyStopping`; NaN never wins) it
    writes ``<dirpath>/<best_filename>``; with ``save_last`` it writes
    ``<dirpath>/<last_filename>`` every epoch. Each file is a plain dict::

        {
            "epoch": int,
            "monitor": str,
            "score": float | None,
            "metrics": {name: float},
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
        }

    (``"optimizer"`` only with ``save_optimizer``), written with
    :func:`pygen.train.checkpoint.atomic_save` (a crash mid-write keeps the previous file)
    and read back with :meth:`load`, which uses
    :func:`pygen.train.checkpoint.safe_load` (never runs code from the file).

    Put it last in ``callbacks=[...]`` so that anything the other callbacks change this
    epoch (e.g. ``EarlyStopping``'s counters) is settled before the model is saved; the
    trainer computes the metrics, validation included, before any ``on_epoch_end``. Only
    the main process writes files; every rank tracks the best score, so the state agrees.
    Its best score is kept in the trainer's checkpoint through :meth:`state_dict`, so a
    resumed run does not overwrite a better model with a worse one.

    Args:
        dirpath: the folder for the checkpoint files (created if missing).
        monitor: the metric deciding the best epoch, e.g. ``"val_log_prob"``; None to keep
            only the last epoch (needs ``save_best=False``).
        mode: ``"auto"``, ``"max"`` or ``"min"``.
        save_best: keep the best epoch's model.
        save_last: keep the last epoch's model.
        min_delta: the smallest change that counts as an improvement (``>= 0``).
        best_filename: the best model's file name inside ``dirpath``.
        last_filename: the last model's file name inside ``dirpath``.
        save_optimizer: also save ``trainer.optimizer.state_dict()``.

    Attributes:
        best_score: the best monitored value so far (None before the first save).
        best_epoch: its epoch.
        best_model_path: the best checkpoint's path (as a string).
        last_model_path: the last checkpoint's path (as a string).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for an unknown ``mode`` (listing the valid ones), nothing to save,
            ``save_best`` without ``monitor``, equal or path-like file names, a negative
            ``min_delta``, a folder that cannot be written; on use, if ``monitor`` is not
            among the trainer's metrics.

    Example:
        >>> import tempfile, torch
        >>> model = torch.nn.Linear(2, 1)
        >>> checkpoint = ModelCheckpoint(tempfile.mkdtemp(), monitor="val_log_prob")
        >>> trainer = type("T", (), {"trainable": model, "optimizer": None})()
        >>> for epoch, value in enumerate([-2.0, -1.0, -1.5]):
        ...     trainer.epoch, trainer.metrics = epoch, {"val_log_prob": value}
        ...     checkpoint(trainer)
        >>> checkpoint.best_epoch, checkpoint.best_score
        (1, -1.0)
        >>> ModelCheckpoint.load(checkpoint.best_model_path)["epoch"]
        1
    """

    def __init__(
        self,
        dirpath: str | os.PathLike[str],
        *,
        monitor: str | None = "val_log_prob",
        mode: Mode = "auto",
        save_best: bool = True,
        save_last: bool = False,
        min_delta: float = 0.0,
        best_filename: str = "best.pt",
        last_filename: str = "last.pt",
        save_optimizer: bool = True,
    ) -> None:
        for name, flag in (
            ("save_best", save_best),
            ("save_last", save_last),
            ("save_optimizer", save_optimizer),
        ):
            if not isinstance(flag, bool):
                raise TypeError(f"{_OWNER}: {name} must be a bool; got {type(flag).__name__}")
        if not (save_best or save_last):
            raise ValueError(
                f"{_OWNER}: at least one of save_best, save_last must be True; got both False"
            )
        if monitor is None:
            if save_best:
                raise ValueError(
                    f"{_OWNER}: save_best=True needs a monitor metric (e.g. 'val_log_prob'); "
                    f"got monitor=None"
                )
            self.monitor: str | None = None
            if mode not in ("auto", "max", "min"):
                raise ValueError(
                    f"{_OWNER}: mode must be one of 'auto', 'max', 'min'; got {mode!r}"
                )
            self.mode: Literal["max", "min"] = "max"
        else:
            self.monitor = check_name(_OWNER, "monitor", monitor)
            self.mode = resolve_mode(_OWNER, self.monitor, mode)
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise TypeError(f"{_OWNER}: min_delta must be a number; got {type(min_delta).__name__}")
        if not (min_delta >= 0 and math.isfinite(min_delta)):
            raise ValueError(f"{_OWNER}: min_delta must be a finite number >= 0; got {min_delta}")
        for name, filename in (("best_filename", best_filename), ("last_filename", last_filename)):
            check_name(_OWNER, name, filename)
            if Path(filename).name != filename or filename in (".", ".."):
                raise ValueError(
                    f"{_OWNER}: {name} must be a plain file name inside dirpath; got {filename!r}"
                )
        if best_filename == last_filename:
            raise ValueError(
                f"{_OWNER}: best_filename and last_filename must differ; got both {best_filename!r}"
            )
        self.dirpath = ensure_writable_folder(_OWNER, "dirpath", dirpath)
        self.save_best = save_best
        self.save_last = save_last
        self.save_optimizer = save_optimizer
        self.min_delta = float(min_delta)
        self.best_model_path = str(self.dirpath / best_filename)
        self.last_model_path = str(self.dirpath / last_filename)
        self.best_score: float | None = None
        self.best_epoch: int | None = None

    @property
    def state_key(self) -> str:
        """``ModelCheckpoint[monitor=..., mode=...]``: two with other monitors keep apart."""
        return f"{_OWNER}[monitor={self.monitor}, mode={self.mode}]"

    def output_files(self) -> dict[str, Path]:
        """The best and/or last file, so the trainer refuses another writer of them."""
        files = {}
        if self.save_best:
            files["best_filename"] = Path(self.best_model_path)
        if self.save_last:
            files["last_filename"] = Path(self.last_model_path)
        return files

    def on_train_start(self, trainer: TrainerState) -> None:
        """Fail before the first epoch if ``val_*`` is monitored without validation data."""
        if self.monitor is not None and self.monitor.startswith("val_"):
            validation = getattr(trainer, "validation_dataset", "unknown")
            if validation is None:
                raise ValueError(
                    f"{_OWNER}: monitor={self.monitor!r} needs validation metrics, but the "
                    f"trainer has validation_dataset=None; pass validation_dataset= to the "
                    f"trainer or monitor a training metric such as 'log_prob'"
                )

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Save the best and/or last model."""
        self(trainer)

    def _payload(self, trainer: TrainerState, epoch: int, score: float | None) -> dict[str, Any]:
        model = unwrap_model(trainer_attribute(_OWNER, trainer, "trainable"))
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"{_OWNER}: the trainable must be a torch.nn.Module to save its state_dict; "
                f"got {type(model).__name__}"
            )
        metrics = getattr(trainer, "metrics", {})
        payload: dict[str, Any] = {
            "epoch": epoch,
            "monitor": self.monitor or "",
            "score": score,
            "metrics": numeric_metrics(metrics),
            "model": model.state_dict(),
        }
        optimizer = getattr(trainer, "optimizer", None)
        if self.save_optimizer and optimizer is not None:
            payload["optimizer"] = optimizer.state_dict()
        return payload

    def __call__(self, trainer: TrainerState) -> None:
        """Check the monitored metric and write the checkpoint file(s) for this epoch.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            ValueError: if ``monitor`` is not among ``trainer.metrics``.
        """
        epoch = int(trainer_attribute(_OWNER, trainer, "epoch"))
        score = None if self.monitor is None else monitored_value(_OWNER, trainer, self.monitor)
        improved = (
            self.save_best
            and score is not None
            and is_improvement(score, self.best_score, self.mode, self.min_delta)
        )
        if improved:
            self.best_score = score
            self.best_epoch = epoch
        if not is_main_process(trainer) or not (improved or self.save_last):
            return
        payload = self._payload(trainer, epoch, score)
        if improved:
            atomic_save(payload, self.best_model_path)
        if self.save_last:
            atomic_save(payload, self.last_model_path)

    @staticmethod
    def load(
        path: str | os.PathLike[str], map_location: str | torch.device | None = None
    ) -> dict[str, Any]:
        """Read a checkpoint written by this callback, without running code from the file.

        Args:
            path: the checkpoint file (e.g. ``checkpoint.best_model_path``).
            map_location: where to put the tensors, as in :func:`torch.load`.

        Returns:
            The checkpoint dict; ``model.load_state_dict(result["model"])`` restores the model.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            pygen.train.checkpoint.UnsafeCheckpointError: if the file would run code.
            ValueError: if the file is not a ModelCheckpoint checkpoint.
        """
        checkpoint = safe_load(path, map_location=map_location)
        if not isinstance(checkpoint, dict) or not {"epoch", "model"} <= set(checkpoint):
            found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint)
            raise ValueError(
                f"ModelCheckpoint.load: path must be a ModelCheckpoint file, a dict with "
                f"'epoch' and 'model'; got {found} from {str(path)!r}"
            )
        return checkpoint

    def load_best(
        self, model: nn.Module, map_location: str | torch.device | None = None
    ) -> dict[str, Any]:
        """Load the best checkpoint's weights into ``model``.

        Args:
            model: the module to restore (same architecture as the trained one).
            map_location: where to put the tensors, as in :func:`torch.load`.

        Returns:
            The checkpoint dict (``"epoch"``, ``"score"``, ``"metrics"``, ...).

        Raises:
            FileNotFoundError: if no best checkpoint has been written.
        """
        if not Path(self.best_model_path).is_file():
            raise FileNotFoundError(
                f"ModelCheckpoint.load_best: no best checkpoint at {self.best_model_path!r} "
                f"yet (save_best={self.save_best}, best_epoch={self.best_epoch})"
            )
        checkpoint = self.load(self.best_model_path, map_location=map_location)
        model.load_state_dict(checkpoint["model"])
        return checkpoint

    def state_dict(self) -> dict[str, Any]:
        """The best score so far, for the trainer's checkpoint.

        Returns:
            ``{"monitor", "mode", "best_score", "best_epoch"}``.
        """
        return {
            "monitor": self.monitor or "",
            "mode": self.mode,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the best score saved by :meth:`state_dict`.

        Args:
            state: what :meth:`state_dict` returned.

        Raises:
            TypeError: if ``state`` is not a dict.
            ValueError: if it lacks keys or was saved for another ``monitor`` or ``mode``.
        """
        super().load_state_dict(state)
        missing = sorted(set(self.state_dict()) - set(state))
        if missing:
            raise ValueError(f"ModelCheckpoint.load_state_dict: state lacks keys {missing}")
        if (state["monitor"], state["mode"]) != (self.monitor or "", self.mode):
            raise ValueError(
                f"ModelCheckpoint.load_state_dict: state was saved for "
                f"monitor={state['monitor']!r}, mode={state['mode']!r}; this callback has "
                f"monitor={self.monitor!r}, mode={self.mode!r}"
            )
        self.best_score = None if state["best_score"] is None else float(state["best_score"])
        self.best_epoch = None if state["best_epoch"] is None else int(state["best_epoch"])

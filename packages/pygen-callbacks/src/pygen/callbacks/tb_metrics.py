"""Log every epoch metric the trainer computed (training and validation) to TensorBoard."""

from __future__ import annotations

from typing import Any

from pygen.callbacks._common import is_main_process, numeric_metrics, trainer_attribute
from pygen.callbacks._writer_callback import WriterCallback
from pygen.train.state import TrainerState

__all__ = ["TBMetricsCallback"]


class TBMetricsCallback(WriterCallback):
    """Logs all of ``trainer.metrics`` at the end of every epoch, one scalar per metric.

    The trainer fills ``trainer.metrics`` before ``on_epoch_end``: ``log_prob``,
    ``bits_per_dim`` (when the event size is known), ``accuracy`` (for categorical
    outputs), ``lr``, and, when it was given a ``validation_dataset``, ``val_log_prob``,
    ``val_bits_per_dim`` and ``val_accuracy``. Each metric ``key`` is written as the tag
    ``f"{prefix}{key}"`` at step ``trainer.epoch``, so the logged values are exactly the
    ones in ``trainer.history.epochs``. Non-numeric entries are skipped.

    With ``log_batch_metrics=True`` it also writes ``trainer.batch_metrics`` after every
    batch as ``f"{batch_prefix}{key}"`` at step ``trainer.batch_num``.

    Only the main process writes. Pass it in ``callbacks=[...]`` (or as
    ``epoch_end_callback=``, which logs the epoch metrics only).

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        prefix: prepended to each epoch metric name.
        log_batch_metrics: also log the per-batch metrics.
        batch_prefix: prepended to each batch metric name.

    Raises:
        TypeError: if ``tb_writer`` has no ``add_scalar`` or a prefix is not a string.
        ValueError: if ``prefix`` equals ``batch_prefix`` while batch metrics are logged.

    Example:
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, value, step)
        >>> trainer = type(
        ...     "T", (), {"epoch": 4, "metrics": {"log_prob": -2.0, "val_log_prob": -2.5}}
        ... )()
        >>> TBMetricsCallback(Writer())(trainer)
        epoch/log_prob -2.0 4
        epoch/val_log_prob -2.5 4
    """

    def __init__(
        self,
        tb_writer: Any,
        *,
        prefix: str = "epoch/",
        log_batch_metrics: bool = False,
        batch_prefix: str = "batch/",
    ) -> None:
        super().__init__("TBMetricsCallback", tb_writer, ("add_scalar",))
        for name, value in (("prefix", prefix), ("batch_prefix", batch_prefix)):
            if not isinstance(value, str):
                raise TypeError(f"{self.owner}: {name} must be a str; got {type(value).__name__}")
        if not isinstance(log_batch_metrics, bool):
            raise TypeError(
                f"{self.owner}: log_batch_metrics must be a bool; "
                f"got {type(log_batch_metrics).__name__}"
            )
        if log_batch_metrics and prefix == batch_prefix:
            raise ValueError(
                f"{self.owner}: prefix and batch_prefix must differ so epoch and batch "
                f"metrics get different tags; got both {prefix!r}"
            )
        self.prefix = prefix
        self.log_batch_metrics = log_batch_metrics
        self.batch_prefix = batch_prefix

    def _write(self, metrics: Any, prefix: str, step: int) -> None:
        for key, value in numeric_metrics(metrics).items():
            self.tb_writer.add_scalar(f"{prefix}{key}", value, step)

    def on_batch_end(self, trainer: TrainerState) -> None:
        """Log ``trainer.batch_metrics`` at ``trainer.batch_num`` (if enabled)."""
        if not self.log_batch_metrics or not is_main_process(trainer):
            return
        metrics = trainer_attribute(self.owner, trainer, "batch_metrics")
        step = int(trainer_attribute(self.owner, trainer, "batch_num"))
        self._write(metrics, self.batch_prefix, step)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Log the epoch metrics."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Write every numeric entry of ``trainer.metrics`` at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).
        """
        if not is_main_process(trainer):
            return
        metrics = trainer_attribute(self.owner, trainer, "metrics")
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        self._write(metrics, self.prefix, step)

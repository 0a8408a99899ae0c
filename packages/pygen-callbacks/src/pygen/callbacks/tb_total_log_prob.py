"""Log each epoch's mean log-likelihood to TensorBoard."""

from __future__ import annotations

from typing import Any

from pygen.callbacks._common import is_main_process, trainer_attribute
from pygen.callbacks._writer_callback import LogProbWriterCallback
from pygen.train.state import TrainerState

__all__ = ["TBTotalLogProbCallback"]


class TBTotalLogProbCallback(LogProbWriterCallback):
    """Logs the finished epoch's mean log-likelihood per example.

    The value is the mean of the epoch's batch means: ``trainer.metrics["log_prob"]``,
    which the trainer sets before ``on_epoch_end`` and records in ``trainer.history`` (under
    ``torchrun`` it is averaged over all ranks). A trainer-like object without that entry
    gets ``trainer.total_log_prob / trainer.batch_len``, as the original computed it. The
    value goes to TensorBoard under ``tb_name`` at step ``trainer.epoch``. Pass it as
    ``epoch_end_callback=`` or in ``callbacks=[...]`` (it runs in ``on_epoch_end``). Only
    the main process writes.

    The value must be an exact log-likelihood: a trainer whose ``objective`` is anything
    else (a VAE's ELBO, IWAE-k, any ``objective=`` callable not named ``"log_prob"``, see
    :func:`pygen.train.metric_names.metric_kind`) has no ``"log_prob"`` metric and a NaN
    ``total_log_prob``, and is refused in ``on_train_start``, before the first step (also
    as a legacy ``epoch_end_callback=``), naming the objective; log such a
    run with :class:`~pygen.callbacks.TBMetricsCallback` (the trainer's own metrics) or
    :class:`~pygen.callbacks.TBDatasetObjectiveCallback` (an objective over a dataset). A
    trainer-like object without an ``objective`` attribute is not checked.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        tb_name: the TensorBoard tag.

    Raises:
        TypeError: if ``tb_writer`` has no ``add_scalar`` or ``tb_name`` is not a string;
            on use, if the trainer's objective is not an exact log-likelihood.
        ValueError: if ``tb_name`` is empty, or on use if the epoch had no batches.

    Example:
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, value, step)
        >>> trainer = type("T", (), {"total_log_prob": -12.0, "batch_len": 4, "epoch": 2})()
        >>> TBTotalLogProbCallback(Writer(), "epoch_log_prob")(trainer)
        epoch_log_prob -3.0 2
    """

    def __init__(self, tb_writer: Any, tb_name: str) -> None:
        super().__init__("TBTotalLogProbCallback", tb_writer, tb_name)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Log the epoch's log-likelihood."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Write the epoch's mean log-likelihood at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            TypeError: if the trainer's objective is not an exact log-likelihood (checked
                on every rank).
        """
        self.check_trainer(trainer)
        if not is_main_process(trainer):
            return
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        self.tb_writer.add_scalar(self.tb_name, self.epoch_log_prob(trainer), step)

    def epoch_log_prob(self, trainer: TrainerState) -> float:
        """The finished epoch's mean log-likelihood per example.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Returns:
            ``trainer.metrics["log_prob"]``, else ``total_log_prob / batch_len``.

        Raises:
            TypeError: if the trainer's objective is not an exact log-likelihood.
            ValueError: if the value must be computed and the epoch had no batches.
        """
        self.check_trainer(trainer)
        metrics = getattr(trainer, "metrics", None)
        if isinstance(metrics, dict) and "log_prob" in metrics:
            return float(metrics["log_prob"])
        total = float(trainer_attribute(self.owner, trainer, "total_log_prob"))
        batches = int(trainer_attribute(self.owner, trainer, "batch_len"))
        if batches < 1:
            raise ValueError(
                f"{self.owner}: the epoch must have at least one batch to average; "
                f"got trainer.batch_len={batches}"
            )
        return total / batches

"""Log each batch's mean log-likelihood to TensorBoard."""

from __future__ import annotations

from typing import Any

from pygen.callbacks._common import is_main_process, trainer_attribute
from pygen.callbacks._writer_callback import LogProbWriterCallback
from pygen.train.state import TrainerState

__all__ = ["TBBatchLogProbCallback"]


class TBBatchLogProbCallback(LogProbWriterCallback):
    """Logs ``trainer.log_prob_item`` (the last batch's mean log-likelihood per example).

    The scalar goes to TensorBoard under ``tb_name`` at step ``trainer.batch_num`` (the
    global batch counter, 1 after the first batch). Works for distribution and layer
    trainers alike, since it reads the trainer, not the model. Pass it as
    ``batch_end_callback=`` (called as ``cb(trainer)``) or in ``callbacks=[...]`` (it runs in
    ``on_batch_end``). Only the main process (``trainer.is_main_process``) writes.

    The value must be an exact log-likelihood: a trainer whose ``objective`` is anything
    else (a VAE's ELBO, IWAE-k, any ``objective=`` callable not named ``"log_prob"``, see
    :func:`pygen.train.metric_names.metric_kind`) has a NaN ``log_prob_item`` and is
    refused in ``on_train_start``, before the first step (also as a legacy
    ``batch_end_callback=``), naming the objective; log such a run with
    :class:`~pygen.callbacks.TBMetricsCallback` (``log_batch_metrics=True``) instead. A
    trainer-like object without an ``objective`` attribute is not checked.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        tb_name: the TensorBoard tag.

    Raises:
        TypeError: if ``tb_writer`` has no ``add_scalar`` or ``tb_name`` is not a string;
            on use, if the trainer's objective is not an exact log-likelihood.
        ValueError: if ``tb_name`` is empty.

    Example:
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, value, step)
        >>> trainer = type("T", (), {"log_prob_item": -3.5, "batch_num": 7})()
        >>> TBBatchLogProbCallback(Writer(), "batch_log_prob")(trainer)
        batch_log_prob -3.5 7
    """

    def __init__(self, tb_writer: Any, tb_name: str) -> None:
        super().__init__("TBBatchLogProbCallback", tb_writer, tb_name)

    def on_batch_end(self, trainer: TrainerState) -> None:
        """Log the batch's log-likelihood."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Write ``trainer.log_prob_item`` at step ``trainer.batch_num``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            TypeError: if the trainer's objective is not an exact log-likelihood (checked
                on every rank).
        """
        self.check_trainer(trainer)
        if not is_main_process(trainer):
            return
        value = float(trainer_attribute(self.owner, trainer, "log_prob_item"))
        step = int(trainer_attribute(self.owner, trainer, "batch_num"))
        self.tb_writer.add_scalar(self.tb_name, value, step)

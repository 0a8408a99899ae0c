"""Log the optimizer's learning rate(s) to TensorBoard."""

from __future__ import annotations

from typing import Any, Literal

from pygen.callbacks._common import check_name, is_main_process, trainer_attribute
from pygen.callbacks._writer_callback import WriterCallback
from pygen.train.state import TrainerState

__all__ = ["LearningRateMonitor"]


class LearningRateMonitor(WriterCallback):
    """Logs the learning rate of each of the optimizer's parameter groups.

    Reads ``trainer.optimizer.param_groups[i]["lr"]``. With one parameter group the tag is
    ``tb_name``; with several, ``f"{tb_name}/group_{i}"``. With
    ``logging_interval="epoch"`` the rate is logged at the end of each epoch at step
    ``trainer.epoch``: the rate the epoch trained with, since the trainer steps its
    scheduler after ``on_epoch_end``. With ``"batch"`` it is logged after every batch at
    step ``trainer.batch_num``. Only the main process writes.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        tb_name: the tag (or tag stem, for several groups).
        logging_interval: ``"epoch"`` or ``"batch"``.

    Raises:
        TypeError: if ``tb_writer`` has no ``add_scalar``, or on use if the trainer has no
            optimizer with ``param_groups``.
        ValueError: if ``logging_interval`` is not ``"epoch"`` or ``"batch"``.

    Example:
        >>> import torch
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, value, step)
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.25)
        >>> trainer = type("T", (), {"optimizer": optimizer, "epoch": 0})()
        >>> LearningRateMonitor(Writer())(trainer)
        lr 0.25 0
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str = "lr",
        *,
        logging_interval: Literal["epoch", "batch"] = "epoch",
    ) -> None:
        super().__init__("LearningRateMonitor", tb_writer, ("add_scalar",))
        self.tb_name = check_name(self.owner, "tb_name", tb_name)
        if logging_interval not in ("epoch", "batch"):
            raise ValueError(
                f"{self.owner}: logging_interval must be one of 'epoch', 'batch'; "
                f"got {logging_interval!r}"
            )
        self.logging_interval = logging_interval

    def learning_rates(self, trainer: TrainerState) -> dict[str, float]:
        """The tag and current learning rate of each parameter group.

        Args:
            trainer: the trainer whose ``optimizer`` is read.

        Returns:
            ``{tag: lr}``, one entry per parameter group.

        Raises:
            TypeError: if the trainer's optimizer has no ``param_groups``.
        """
        optimizer = trainer_attribute(self.owner, trainer, "optimizer")
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not all("lr" in group for group in groups):
            raise TypeError(
                f"{self.owner}: trainer.optimizer must be a torch.optim.Optimizer whose "
                f"param_groups carry 'lr'; got {type(optimizer).__name__}"
            )
        if len(groups) == 1:
            return {self.tb_name: float(groups[0]["lr"])}
        return {
            f"{self.tb_name}/group_{index}": float(group["lr"])
            for index, group in enumerate(groups)
        }

    def _log(self, trainer: TrainerState, step_attribute: str) -> None:
        if not is_main_process(trainer):
            return
        step = int(trainer_attribute(self.owner, trainer, step_attribute))
        for tag, value in self.learning_rates(trainer).items():
            self.tb_writer.add_scalar(tag, value, step)

    def on_train_start(self, trainer: TrainerState) -> None:
        """Check that the trainer's optimizer exposes learning rates."""
        self.learning_rates(trainer)

    def on_batch_end(self, trainer: TrainerState) -> None:
        """Log at ``trainer.batch_num`` when ``logging_interval="batch"``."""
        if self.logging_interval == "batch":
            self._log(trainer, "batch_num")

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Log at ``trainer.epoch`` when ``logging_interval="epoch"``."""
        if self.logging_interval == "epoch":
            self._log(trainer, "epoch")

    def __call__(self, trainer: TrainerState) -> None:
        """Log the learning rates at the step of ``logging_interval``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).
        """
        self._log(trainer, "epoch" if self.logging_interval == "epoch" else "batch_num")

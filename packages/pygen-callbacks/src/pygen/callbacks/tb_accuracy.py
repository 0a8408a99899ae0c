"""Log a classifier's accuracy over a dataset each epoch."""

from __future__ import annotations

from typing import Any

from pygen.callbacks._common import (
    check_dataset,
    check_name,
    check_positive_int,
    is_main_process,
    trainer_attribute,
    unwrap_model,
)
from pygen.callbacks._writer_callback import WriterCallback
from pygen.train.evaluate import evaluate
from pygen.train.state import TrainerState

__all__ = ["TBAccuracyCallback"]


class TBAccuracyCallback(WriterCallback):
    """Logs the fraction of a dataset a classifier labels correctly, each epoch.

    For layers that map inputs to a categorical distribution over classes. The callback
    evaluates ``trainer.trainable`` over every ``(x, label)`` pair of ``dataset`` with
    ``pygen.train.evaluate.evaluate(..., mode="layer")``, whose accuracy counts the most
    probable class (the original drew a random sample instead), and writes the accuracy in
    ``[0, 1]`` under ``tb_name`` at step ``trainer.epoch``. The whole evaluation result stays
    in ``last_metrics``. Only the main process evaluates and writes.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        tb_name: the TensorBoard tag.
        dataset: a map-style dataset of ``(input, label)`` pairs.
        batch_size: examples per evaluation batch.

    Raises:
        TypeError: for a bad writer, name or dataset, or on use if the model's output has
            no categories (so there is no accuracy to report).
        ValueError: for an empty dataset or a non-positive ``batch_size``.

    Example:
        >>> import torch
        >>> from torch import distributions as D
        >>> class Classifier(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.bias = torch.nn.Parameter(torch.tensor([2.0, 0.0]))
        ...
        ...     def forward(self, x):
        ...         return D.Categorical(logits=self.bias.expand(len(x), 2))
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, value, step)
        >>> pairs = torch.utils.data.TensorDataset(torch.rand(4, 3), torch.tensor([0, 0, 0, 1]))
        >>> callback = TBAccuracyCallback(Writer(), "accuracy", pairs)
        >>> callback(type("T", (), {"trainable": Classifier(), "epoch": 5})())
        accuracy 0.75 5
    """

    def __init__(self, tb_writer: Any, tb_name: str, dataset: Any, batch_size: int = 32) -> None:
        super().__init__("TBAccuracyCallback", tb_writer, ("add_scalar",))
        self.tb_name = check_name(self.owner, "tb_name", tb_name)
        check_dataset(self.owner, dataset)
        self.dataset = dataset
        self.batch_size = check_positive_int(self.owner, "batch_size", batch_size)
        self.last_metrics: dict[str, float] = {}

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Evaluate the dataset and log the accuracy."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Evaluate ``dataset`` and write the accuracy at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            TypeError: if the model's output is not categorical (no accuracy computed).
        """
        if not is_main_process(trainer):
            return
        model = unwrap_model(trainer_attribute(self.owner, trainer, "trainable"))
        self.last_metrics = evaluate(model, self.dataset, mode="layer", batch_size=self.batch_size)
        if "accuracy" not in self.last_metrics:
            raise TypeError(
                f"{self.owner}: the classifier's output must be a categorical distribution "
                f"(with logits or probs) to score accuracy; evaluate() returned only "
                f"{sorted(self.last_metrics)} for {type(model).__name__}"
            )
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        self.tb_writer.add_scalar(self.tb_name, self.last_metrics["accuracy"], step)

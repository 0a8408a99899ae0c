"""Log any objective and its metrics over a dataset (e.g. IWAE-k on validation data)."""

from __future__ import annotations

from typing import Any

from pygen.callbacks._common import (
    check_dataset,
    check_positive_int,
    evaluate_trainable,
    is_main_process,
    trainer_attribute,
)
from pygen.callbacks._writer_callback import WriterCallback
from pygen.train.objective import Objective, ObjectiveFunction
from pygen.train.state import TrainerState

__all__ = ["TBDatasetObjectiveCallback"]


class TBDatasetObjectiveCallback(WriterCallback):
    """Evaluates an objective over a dataset every ``every_n_epochs`` epochs; logs each metric.

    For figures too costly to compute every step, such as a VAE's importance-weighted
    bound IWAE-k on the validation data (``objective=IWAEObjective(k=5000)`` from
    ``pygen.distributions``; this package does not import it, any objective fits): the
    callback runs ``pygen.train.evaluate.evaluate(trainer.trainable, dataset,
    objective=objective)`` (no gradients, eval mode, the training flags restored) and
    writes every figure it returns under ``<prefix><name>`` at step ``trainer.epoch``,
    e.g. ``val_iwae_5000``, ``val_elbo``, ``val_iwae_5000_bits_per_dim``. The names are the
    objective's own, so a bound keeps its bound's name. The random number generators are
    forked around the evaluation, so a sampling objective does not change what training
    draws afterwards. The last figures stay in ``last_metrics``. Only the main process
    evaluates and writes.

    The trainer's ``validation_dataset=`` evaluates the training objective itself into
    the history; this callback adds other objectives beside it, in TensorBoard only.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        dataset: a map-style dataset of batches' items (e.g. the validation set).
        objective: a ``pygen.train`` objective or a callable ``(model, batch) ->
            per-example tensor [, dict of per-example metrics]``.
        prefix: put before every name (``"val_"``: the figures of validation data).
        batch_size: examples per evaluation batch.
        every_n_epochs: evaluate after every ``n``-th epoch (and never in between).

    Raises:
        TypeError: for a bad writer, dataset or prefix.
        ValueError: for an empty dataset or a non-positive count.

    Example:
        >>> import torch
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, round(value, 4), step)
        >>> def negative_square(model, batch):
        ...     value = -(batch[0] ** 2).sum(-1)
        ...     return value, {"elbo": value - 1}
        >>> dataset = torch.utils.data.TensorDataset(torch.ones(4, 2))
        >>> callback = TBDatasetObjectiveCallback(Writer(), dataset, negative_square)
        >>> callback(type("T", (), {"trainable": torch.nn.Linear(1, 1), "epoch": 2})())
        val_objective -2.0 2
        val_elbo -3.0 2
        val_elbo_bits_per_dim 2.164 2
    """

    def __init__(
        self,
        tb_writer: Any,
        dataset: Any,
        objective: Objective | ObjectiveFunction,
        *,
        prefix: str = "val_",
        batch_size: int = 32,
        every_n_epochs: int = 1,
    ) -> None:
        owner = "TBDatasetObjectiveCallback"
        super().__init__(owner, tb_writer, ("add_scalar",))
        check_dataset(owner, dataset)
        if not callable(objective):
            raise TypeError(
                f"{owner}: objective must be a pygen.train objective or a callable "
                f"(model, batch) -> tensor; got {type(objective).__name__}"
            )
        if not isinstance(prefix, str):
            raise TypeError(f"{owner}: prefix must be a str; got {type(prefix).__name__}")
        self.dataset = dataset
        self.objective = objective
        self.prefix = prefix
        self.batch_size = check_positive_int(owner, "batch_size", batch_size)
        self.every_n_epochs = check_positive_int(owner, "every_n_epochs", every_n_epochs)
        self.last_metrics: dict[str, float] = {}

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Evaluate the dataset after every ``every_n_epochs``-th epoch and log it."""
        if (int(trainer_attribute(self.owner, trainer, "epoch")) + 1) % self.every_n_epochs == 0:
            self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Evaluate ``dataset`` now and write each figure at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).
        """
        if not is_main_process(trainer):
            return
        figures = evaluate_trainable(
            self.owner, trainer, self.dataset, self.batch_size, objective=self.objective
        )
        self.last_metrics = {f"{self.prefix}{name}": value for name, value in figures.items()}
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        for name, value in self.last_metrics.items():
            self.tb_writer.add_scalar(name, value, step)

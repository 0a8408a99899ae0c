"""Log the mean log-likelihood of a dataset (e.g. validation data) each epoch."""

from __future__ import annotations

from typing import Any, Literal

from pygen.callbacks._common import (
    INSTEAD_OF_LOG_PROB,
    check_dataset,
    check_positive_int,
    describe_objective,
    evaluate_trainable,
    is_main_process,
    trainer_attribute,
    unwrap_model,
)
from pygen.callbacks._writer_callback import LogProbWriterCallback
from pygen.train.state import TrainerState

__all__ = ["TBDatasetLogProbDistributionCallback", "TBDatasetLogProbLayerCallback"]


class _TBDatasetLogProbCallback(LogProbWriterCallback):
    """Evaluates the trainable over a dataset with pygen.train.evaluate and logs log_prob.

    The value comes from the model (``trainable.log_prob`` or ``trainable(x).log_prob``),
    never from the trainer's objective, so the model decides whether it is exact: a
    distribution without ``log_prob`` (a VAE) is refused before the first step, and one
    with it is watched whatever objective trains it. A layer's output is only known once
    called; one that is not a distribution fails at the first evaluation.
    """

    def __init__(
        self,
        owner: str,
        tb_writer: Any,
        tb_name: str,
        dataset: Any,
        batch_size: int,
        mode: Literal["distribution", "layer"],
        reverse_inputs: bool,
    ) -> None:
        super().__init__(owner, tb_writer, tb_name)
        check_dataset(owner, dataset)
        self.dataset = dataset
        self.batch_size = check_positive_int(owner, "batch_size", batch_size)
        if not isinstance(reverse_inputs, bool):
            raise TypeError(
                f"{owner}: reverse_inputs must be a bool; got {type(reverse_inputs).__name__}"
            )
        self.mode: Literal["distribution", "layer"] = mode
        self.reverse_inputs = reverse_inputs
        self.last_metrics: dict[str, float] = {}

    def check_trainer(self, trainer: TrainerState) -> None:
        """Raise TypeError if a distribution's trainable has no exact ``log_prob``."""
        if self.mode != "distribution":
            return
        model = unwrap_model(trainer_attribute(self.owner, trainer, "trainable"))
        if callable(getattr(model, "log_prob", None)):
            return
        objective = getattr(trainer, "objective", None)
        trained = (
            "" if objective is None else f"; the trainer maximises {describe_objective(objective)}"
        )
        raise TypeError(
            f"{self.owner}: logs the exact log-likelihood trainable.log_prob(x) of a dataset, "
            f"but the trainable {type(model).__name__} has no log_prob method (a model "
            f"trained on a bound, such as a VAE, has none){trained}. {INSTEAD_OF_LOG_PROB}."
        )

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Evaluate the dataset and log its log-likelihood."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Evaluate ``dataset`` and write its mean log-likelihood at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).

        Raises:
            TypeError: if a distribution's trainable has no ``log_prob`` (checked on every
                rank).
        """
        self.check_trainer(trainer)
        if not is_main_process(trainer):
            return
        self.last_metrics = evaluate_trainable(
            self.owner,
            trainer,
            self.dataset,
            self.batch_size,
            mode=self.mode,
            reverse_inputs=self.reverse_inputs,
        )
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        self.tb_writer.add_scalar(self.tb_name, self.last_metrics["log_prob"], step)


class TBDatasetLogProbDistributionCallback(_TBDatasetLogProbCallback):
    """Logs a distribution's mean log-likelihood per example over a dataset, each epoch.

    For models trained by ``DistributionTrainer``: the callback evaluates
    ``trainer.trainable.log_prob(batch[0])`` over all of ``dataset`` with
    ``pygen.train.evaluate.evaluate(..., mode="distribution")`` (no gradients, eval mode,
    the training flag restored) and writes the mean under ``tb_name`` at step
    ``trainer.epoch``. The full result of the last evaluation (including ``bits_per_dim``
    when known) stays in ``last_metrics``. Pass it as ``epoch_end_callback=`` or in
    ``callbacks=[...]``. Only the main process evaluates and writes.

    The value is the model's exact ``log_prob``, whatever objective trains it; a trainable
    without one (a VAE trained on its ELBO) is refused in ``on_train_start``, before the
    first step (as a legacy ``epoch_end_callback=``, at its first call): evaluate a bound
    over a dataset with :class:`~pygen.callbacks.TBDatasetObjectiveCallback` instead.

    The trainer's own ``validation_dataset=`` computes the same numbers into
    ``trainer.metrics["val_log_prob"]`` for every callback to share; this callback is
    for extra datasets and for code written against the original API.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        tb_name: the TensorBoard tag.
        dataset: a map-style dataset whose items' first element is the model's input.
        batch_size: examples per evaluation batch.

    Raises:
        TypeError: for a bad writer, name or dataset; on use, for a trainable without
            ``log_prob``.
        ValueError: for an empty dataset or a non-positive ``batch_size``.

    Example:
        >>> import torch
        >>> from torch import distributions as D
        >>> class Gaussian(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.loc = torch.nn.Parameter(torch.zeros(2))
        ...
        ...     def log_prob(self, value):
        ...         return D.Independent(D.Normal(self.loc, 1.0), 1).log_prob(value)
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, round(value, 4), step)
        >>> dataset = torch.utils.data.TensorDataset(torch.zeros(8, 2))
        >>> callback = TBDatasetLogProbDistributionCallback(Writer(), "validation", dataset)
        >>> callback(type("T", (), {"trainable": Gaussian(), "epoch": 0})())
        validation -1.8379 0
    """

    def __init__(self, tb_writer: Any, tb_name: str, dataset: Any, batch_size: int = 32) -> None:
        super().__init__(
            "TBDatasetLogProbDistributionCallback",
            tb_writer,
            tb_name,
            dataset,
            batch_size,
            "distribution",
            False,
        )


class TBDatasetLogProbLayerCallback(_TBDatasetLogProbCallback):
    """Logs a layer's mean conditional log-likelihood over a dataset of pairs, each epoch.

    For models trained by ``LayerTrainer``: the callback evaluates
    ``trainer.trainable(x).log_prob(y)`` over all ``(x, y)`` pairs of ``dataset`` (with
    ``reverse_inputs=True``, the pairs are read as ``(y, x)``, e.g. to model images given
    labels) using ``pygen.train.evaluate.evaluate(..., mode="layer")`` and writes the mean
    under ``tb_name`` at step ``trainer.epoch``. The full result (with ``accuracy`` for
    categorical outputs) stays in ``last_metrics``. Only the main process evaluates and
    writes. The value is ``trainable(x).log_prob(y)``, exact for any distribution the
    layer returns, whatever objective trains it, so the trainer's objective is not
    checked; an output without ``log_prob`` fails at the first evaluation.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        tb_name: the TensorBoard tag.
        dataset: a map-style dataset of ``(input, target)`` pairs.
        batch_size: examples per evaluation batch.
        reverse_inputs: read each pair as ``(target, input)``.

    Raises:
        TypeError: for a bad writer, name, dataset or ``reverse_inputs``.
        ValueError: for an empty dataset or a non-positive ``batch_size``.

    Example:
        >>> import torch
        >>> from torch import distributions as D
        >>> class Classifier(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.linear = torch.nn.Linear(2, 4)
        ...
        ...     def forward(self, x):
        ...         return D.Categorical(logits=self.linear(x) * 0.0)
        >>> class Writer:
        ...     def add_scalar(self, tag, value, step):
        ...         print(tag, round(value, 4), step)
        >>> pairs = torch.utils.data.TensorDataset(torch.rand(8, 2), torch.zeros(8).long())
        >>> callback = TBDatasetLogProbLayerCallback(Writer(), "validation", pairs)
        >>> callback(type("T", (), {"trainable": Classifier(), "epoch": 1})())
        validation -1.3863 1
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str,
        dataset: Any,
        batch_size: int = 32,
        reverse_inputs: bool = False,
    ) -> None:
        super().__init__(
            "TBDatasetLogProbLayerCallback",
            tb_writer,
            tb_name,
            dataset,
            batch_size,
            "layer",
            reverse_inputs,
        )

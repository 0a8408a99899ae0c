"""Log histograms of the model's weights and gradients to TensorBoard."""

from __future__ import annotations

from typing import Any

from torch import nn

from pygen.callbacks._common import is_main_process, trainer_attribute, unwrap_model
from pygen.callbacks._writer_callback import WriterCallback
from pygen.train.state import TrainerState

__all__ = ["TBHistogramsCallback"]


class TBHistogramsCallback(WriterCallback):
    """Logs a histogram of every parameter, and of its gradient, at the end of each epoch.

    For each ``name, parameter`` in ``trainer.trainable.named_parameters()`` the callback
    writes ``add_histogram(f"weights/{name}", parameter, epoch)`` and, when the parameter
    has a gradient, ``add_histogram(f"gradients/{name}", parameter.grad, epoch)``. The
    gradients are those of the epoch's last batch, which the trainer leaves in place after
    its optimizer step. Histograms are written at step ``trainer.epoch`` and only by the
    main process.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``.
        weights: log the parameters' values.
        gradients: log the parameters' gradients.
        weights_prefix: tag prefix of the weight histograms.
        gradients_prefix: tag prefix of the gradient histograms.

    Raises:
        TypeError: if ``tb_writer`` has no ``add_histogram``, a flag is not a bool, or on
            first use if the trainable is not an ``nn.Module``.
        ValueError: if both ``weights`` and ``gradients`` are False, or the prefixes are
            equal.

    Example:
        >>> import torch
        >>> class Writer:
        ...     def add_histogram(self, tag, values, step):
        ...         print(tag, list(values.shape), step)
        >>> model = torch.nn.Linear(3, 2)
        >>> model(torch.ones(1, 3)).sum().backward()
        >>> TBHistogramsCallback(Writer())(type("T", (), {"trainable": model, "epoch": 1})())
        weights/weight [2, 3] 1
        gradients/weight [2, 3] 1
        weights/bias [2] 1
        gradients/bias [2] 1
    """

    def __init__(
        self,
        tb_writer: Any,
        *,
        weights: bool = True,
        gradients: bool = True,
        weights_prefix: str = "weights/",
        gradients_prefix: str = "gradients/",
    ) -> None:
        super().__init__("TBHistogramsCallback", tb_writer, ("add_histogram",))
        for name, flag in (("weights", weights), ("gradients", gradients)):
            if not isinstance(flag, bool):
                raise TypeError(f"{self.owner}: {name} must be a bool; got {type(flag).__name__}")
        if not (weights or gradients):
            raise ValueError(
                f"{self.owner}: at least one of weights, gradients must be True; got both False"
            )
        for name, value in (
            ("weights_prefix", weights_prefix),
            ("gradients_prefix", gradients_prefix),
        ):
            if not isinstance(value, str):
                raise TypeError(f"{self.owner}: {name} must be a str; got {type(value).__name__}")
        if weights_prefix == gradients_prefix:
            raise ValueError(
                f"{self.owner}: weights_prefix and gradients_prefix must differ; "
                f"got both {weights_prefix!r}"
            )
        self.weights = weights
        self.gradients = gradients
        self.weights_prefix = weights_prefix
        self.gradients_prefix = gradients_prefix

    def _model(self, trainer: TrainerState) -> nn.Module:
        model = unwrap_model(trainer_attribute(self.owner, trainer, "trainable"))
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"{self.owner}: the trainable must be a torch.nn.Module with parameters; "
                f"got {type(model).__name__}"
            )
        return model

    def on_train_start(self, trainer: TrainerState) -> None:
        """Check that the trainable is a module."""
        self._model(trainer)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Log the histograms."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Write the weight and gradient histograms at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).
        """
        if not is_main_process(trainer):
            return
        model = self._model(trainer)
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        for name, parameter in model.named_parameters():
            if self.weights:
                self.tb_writer.add_histogram(
                    f"{self.weights_prefix}{name}", parameter.detach().cpu(), step
                )
            if self.gradients and parameter.grad is not None:
                self.tb_writer.add_histogram(
                    f"{self.gradients_prefix}{name}", parameter.grad.detach().cpu(), step
                )

"""A grid of samples from the distribution being trained, each epoch."""

from __future__ import annotations

import os
from typing import Any

import torch
from torchvision.utils import make_grid

from pygen.callbacks._common import check_positive_int
from pygen.callbacks._images import (
    ImageCallback,
    check_value_range,
    evaluation_mode,
    to_unit_images,
)
from pygen.train.state import TrainerState

__all__ = ["TBImagesCallback"]


class TBImagesCallback(ImageCallback):
    """Logs a grid of samples drawn from ``trainer.trainable`` at the end of each epoch.

    For distributions over images (what ``DistributionTrainer`` trains): the callback calls
    ``trainer.trainable.sample([num_samples])``, expects ``[num_samples, C, H, W]`` (or
    ``[num_samples, H, W]``) with ``C`` in ``{1, 3}``, maps ``value_range`` to ``[0, 1]``,
    clips, and arranges the samples ``nrow`` per row (the original: 16 samples, 4 x 4, 10
    pixels of padding). Sampling runs without gradients with the model in eval mode; its
    training flag is restored afterwards.

    The grid goes to TensorBoard under ``tb_name`` at step ``trainer.epoch`` (``add_image``,
    ``[3, H', W']``), and/or to ``<folder>/<tb_name>_<epoch:04d>.png`` when ``folder`` is
    given. Either ``tb_writer`` or ``folder`` may be None, not both. Only the main process
    (``trainer.is_main_process``) writes.

    Use it as ``epoch_end_callback=TBImagesCallback(...)`` (called as ``cb(trainer)``) or in
    ``callbacks=[...]`` (it runs in ``on_epoch_end`` and checks the model in
    ``on_train_start``).

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``, or None to write files only.
        tb_name: the TensorBoard tag (and file-name stem).
        num_samples: how many samples to draw.
        nrow: samples per row of the grid.
        value_range: the ``(low, high)`` range of the samples, mapped to black and white.
        padding: pixels between grid cells.
        folder: a folder to also write each grid to as PNG, or None.

    Raises:
        TypeError: if ``tb_writer`` is not a writer (or both it and ``folder`` are None), or
            on first use if the model has no ``sample`` method.
        ValueError: for a non-positive count, a bad ``value_range``, a folder that cannot
            be written, or on use if the samples are not images.

    Example:
        >>> import tempfile, torch
        >>> from torch import distributions as D
        >>> class Pixels(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.logits = torch.nn.Parameter(torch.zeros(1, 8, 8))
        ...
        ...     def sample(self, shape):
        ...         return D.Independent(D.Bernoulli(logits=self.logits), 3).sample(shape)
        >>> trainer = type("T", (), {"trainable": Pixels(), "epoch": 0})()
        >>> callback = TBImagesCallback(None, "samples", folder=tempfile.mkdtemp())
        >>> callback(trainer)
        >>> callback.written_paths[0].endswith("samples_0000.png")
        True
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str,
        *,
        num_samples: int = 16,
        nrow: int = 4,
        value_range: tuple[float, float] = (0.0, 1.0),
        padding: int = 10,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__("TBImagesCallback", tb_writer, tb_name, folder)
        self.num_samples = check_positive_int(self.owner, "num_samples", num_samples)
        self.nrow = check_positive_int(self.owner, "nrow", nrow)
        self.padding = check_positive_int(self.owner, "padding", padding, minimum=0)
        self.value_range = check_value_range(self.owner, value_range)

    def check_model(self, model: Any) -> None:
        """Raise TypeError unless ``model`` has a callable ``sample``.

        Args:
            model: the trainable.

        Raises:
            TypeError: if ``model.sample`` is missing.
        """
        if not callable(getattr(model, "sample", None)):
            raise TypeError(
                f"{self.owner}: the trainable must be a distribution with a sample(sample_shape) "
                f"method; got {type(model).__name__} without one"
            )

    def make_image(self, trainer: TrainerState) -> torch.Tensor:
        """Draw ``num_samples`` samples and arrange them in a grid.

        Args:
            trainer: the trainer whose ``trainable`` is sampled.

        Returns:
            A float image ``[3, H', W']`` in ``[0, 1]``.
        """
        model = self._checked_model(trainer)
        with evaluation_mode(model):
            samples = model.sample(torch.Size([self.num_samples]))
        images = to_unit_images(self.owner, samples, self.value_range, "the samples")
        if images.shape[0] != self.num_samples:
            raise ValueError(
                f"{self.owner}: sample([{self.num_samples}]) must return {self.num_samples} "
                f"images; got shape {list(samples.shape)} (is the distribution batched?)"
            )
        return make_grid(images, nrow=self.nrow, padding=self.padding)

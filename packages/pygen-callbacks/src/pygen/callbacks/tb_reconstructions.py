"""A grid of dataset images beside their reconstructions by the model, each epoch."""

from __future__ import annotations

import os
from typing import Any

import torch
from torchvision.utils import make_grid

from pygen.callbacks._common import (
    check_dataset,
    check_positive_int,
    describe_shape,
    model_device,
)
from pygen.callbacks._images import (
    ImageCallback,
    check_value_range,
    evaluation_mode,
    first_dataset_images,
    to_unit_images,
)
from pygen.train.state import TrainerState

__all__ = ["TBReconstructionsCallback"]


class TBReconstructionsCallback(ImageCallback):
    """Logs the first ``num_images`` images of a dataset beside their reconstructions.

    For models with a ``reconstruct(x)`` method returning a batch shaped like ``x``, such
    as ``pygen.distributions.VAE`` (encode, draw z, decode; the decoder's mean by
    default); the callback is duck-typed and needs nothing else of the model. Each input
    is followed by its reconstruction in the same row, ``pairs_per_row`` pairs per row (so
    ``2 * pairs_per_row`` columns: input, reconstruction, input, reconstruction, ...).
    Reconstruction runs without gradients with the model in eval mode; its training
    flags are restored afterwards.

    The grid goes to TensorBoard under ``tb_name`` at step ``trainer.epoch``
    (``add_image``, ``[3, H', W']``), and/or to ``<folder>/<tb_name>_<epoch:04d>.png`` when
    ``folder`` is given, next to the sample grids of :class:`TBImagesCallback`. Only the
    main process writes.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``, or None to write files only.
        tb_name: the TensorBoard tag (and file-name stem).
        dataset: a map-style dataset of images or ``(image, ...)`` tuples (e.g. the
            validation set), with at least ``num_images`` items.
        num_images: how many inputs to reconstruct.
        pairs_per_row: input/reconstruction pairs per row of the grid.
        value_range: the ``(low, high)`` range of the images, mapped to black and white.
        padding: pixels between grid cells.
        folder: a folder to also write each grid to as PNG, or None.

    Raises:
        TypeError: for a bad writer or dataset, or on first use if the model has no
            ``reconstruct`` method.
        ValueError: for a non-positive count, a dataset that is too small or whose first
            items are not images of one shape, or on use if the reconstructions do not
            have the inputs' shape.

    Example:
        >>> import tempfile, torch
        >>> class Blur(torch.nn.Module):
        ...     def reconstruct(self, x):
        ...         return torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1)
        >>> dataset = torch.utils.data.TensorDataset(torch.rand(20, 1, 8, 8))
        >>> trainer = type("T", (), {"trainable": Blur(), "epoch": 0})()
        >>> callback = TBReconstructionsCallback(
        ...     None, "reconstructions", dataset, folder=tempfile.mkdtemp()
        ... )
        >>> callback.make_image(trainer).shape  # 4 rows of 4 pairs of 8x8, 2 pixels apart
        torch.Size([3, 42, 82])
        >>> callback(trainer)
        >>> callback.written_paths[0].endswith("reconstructions_0000.png")
        True
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str,
        dataset: Any,
        *,
        num_images: int = 16,
        pairs_per_row: int = 4,
        value_range: tuple[float, float] = (0.0, 1.0),
        padding: int = 2,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__("TBReconstructionsCallback", tb_writer, tb_name, folder)
        self.num_images = check_positive_int(self.owner, "num_images", num_images)
        self.pairs_per_row = check_positive_int(self.owner, "pairs_per_row", pairs_per_row)
        self.padding = check_positive_int(self.owner, "padding", padding, minimum=0)
        self.value_range = check_value_range(self.owner, value_range)
        check_dataset(self.owner, dataset, minimum=self.num_images)
        self.images = first_dataset_images(self.owner, dataset, self.num_images, self.value_range)

    def check_model(self, model: Any) -> None:
        """Raise TypeError unless ``model`` has a callable ``reconstruct``.

        Args:
            model: the trainable.

        Raises:
            TypeError: if ``model.reconstruct`` is missing.
        """
        if not callable(getattr(model, "reconstruct", None)):
            raise TypeError(
                f"{self.owner}: the trainable must have a reconstruct(x) method returning a "
                f"batch shaped like x (e.g. pygen.distributions.VAE); got "
                f"{type(model).__name__} without one"
            )

    def make_image(self, trainer: TrainerState) -> torch.Tensor:
        """Reconstruct the images and arrange inputs and reconstructions in pairs.

        Args:
            trainer: the trainer whose ``trainable`` reconstructs.

        Returns:
            A float image ``[3, H', W']`` in ``[0, 1]``.

        Raises:
            ValueError: if the reconstructions are not shaped like the inputs.
        """
        model = self._checked_model(trainer)
        with evaluation_mode(model):
            reconstructions = model.reconstruct(self.images.to(model_device(trainer, model)))
        if not isinstance(reconstructions, torch.Tensor) or tuple(reconstructions.shape) != tuple(
            self.images.shape
        ):
            raise ValueError(
                f"{self.owner}: reconstruct(x) must return a tensor shaped like x, "
                f"{list(self.images.shape)}; got {describe_shape(reconstructions)}"
            )
        inputs = to_unit_images(self.owner, self.images, self.value_range, "the dataset images")
        outputs = to_unit_images(self.owner, reconstructions, self.value_range, "reconstructions")
        pairs = torch.stack([inputs, outputs], dim=1).flatten(0, 1)  # x0, r0, x1, r1, ...
        return make_grid(pairs, nrow=2 * self.pairs_per_row, padding=self.padding)

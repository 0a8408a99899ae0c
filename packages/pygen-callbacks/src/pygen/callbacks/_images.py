"""Private base for the callbacks that log an image each epoch (TensorBoard and/or PNG files)."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from pygen.callbacks._common import (
    check_name,
    check_writer,
    is_main_process,
    trainer_attribute,
    unwrap_model,
)
from pygen.callbacks.image_folder_writer import ImageFolderWriter
from pygen.train.callback import Callback
from pygen.train.state import TrainerState

__all__: list[str] = []


def check_value_range(owner: str, value_range: Any) -> tuple[float, float]:
    """Validate a ``(low, high)`` pair with ``low < high``."""
    try:
        low, high = (float(value) for value in value_range)
    except (TypeError, ValueError):
        raise TypeError(
            f"{owner}: value_range must be a pair of numbers (low, high); got {value_range!r}"
        ) from None
    if not low < high:
        raise ValueError(f"{owner}: value_range must have low < high; got ({low}, {high})")
    return low, high


def to_unit_images(
    owner: str, images: Any, value_range: tuple[float, float], what: str
) -> torch.Tensor:
    """Turn ``[N, C, H, W]`` or ``[N, H, W]`` images into floats in ``[0, 1]``, ``C`` in {1, 3}.

    Values are mapped from ``value_range`` to ``[0, 1]`` and clipped.
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{owner}: {what} must be a torch.Tensor; got {type(images).__name__}")
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"{owner}: {what} must be images of shape [N, C, H, W] with C in {{1, 3}} "
            f"(or [N, H, W]); got shape {list(images.shape)}"
        )
    low, high = value_range
    images = (images.detach().to("cpu", torch.float32) - low) / (high - low)
    return images.clamp(0.0, 1.0)


def first_dataset_images(
    owner: str, dataset: Any, count: int, value_range: tuple[float, float]
) -> torch.Tensor:
    """The first ``count`` images of a dataset of images or ``(image, ...)`` tuples, stacked.

    Checks, at construction rather than at the end of the first epoch, that they are
    tensors of one shape that :func:`to_unit_images` accepts.
    """
    first_items = [dataset[index] for index in range(count)]
    images = [item[0] if isinstance(item, tuple | list) else item for item in first_items]
    if not all(isinstance(image, torch.Tensor) for image in images):
        raise TypeError(
            f"{owner}: dataset items must be tensors or (tensor, label) pairs; "
            f"got first element of type {type(images[0]).__name__}"
        )
    try:
        stacked = torch.stack(images)
    except RuntimeError as error:
        raise ValueError(
            f"{owner}: the first {count} dataset images must share one shape; "
            f"got {sorted({tuple(image.shape) for image in images})}"
        ) from error
    to_unit_images(owner, stacked, value_range, "the dataset images")
    return stacked


@contextmanager
def evaluation_mode(model: Any) -> Iterator[None]:
    """No gradients and every submodule in eval mode inside; each one's flag restored after."""
    modules = list(model.modules()) if isinstance(model, nn.Module) else []
    flags = [module.training for module in modules]
    for module in modules:
        module.training = False
    try:
        with torch.no_grad():
            yield
    finally:
        for module, flag in zip(modules, flags, strict=True):
            module.training = flag


class ImageCallback(Callback, abc.ABC):
    """An epoch-end callback that renders one image and writes it to TensorBoard and/or PNG.

    Subclasses implement :meth:`check_model` (fail fast on a model that cannot be used) and
    :meth:`make_image` (return a ``[C, H, W]`` float image in ``[0, 1]``).
    """

    def __init__(
        self, owner: str, tb_writer: Any, tb_name: str, folder: str | os.PathLike[str] | None
    ) -> None:
        check_writer(owner, tb_writer, ("add_image",), allow_none=folder is not None)
        self.owner = owner
        self.tb_writer = tb_writer
        self.tb_name = check_name(owner, "tb_name", tb_name)
        self.folder_writer = None if folder is None else ImageFolderWriter(folder)
        self.written_paths: list[str] = []
        self._model_checked = False

    @abc.abstractmethod
    def check_model(self, model: Any) -> None:
        """Raise TypeError if ``model`` lacks what this callback needs."""

    @abc.abstractmethod
    def make_image(self, trainer: TrainerState) -> torch.Tensor:
        """Render the image to log for the trainer's current state."""

    def _checked_model(self, trainer: TrainerState) -> Any:
        model = unwrap_model(trainer_attribute(self.owner, trainer, "trainable"))
        if not self._model_checked:
            self.check_model(model)
            self._model_checked = True
        return model

    def on_train_start(self, trainer: TrainerState) -> None:
        """Check the model before the first epoch, so a bad pairing fails immediately."""
        self._checked_model(trainer)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Log the image for the finished epoch."""
        self(trainer)

    def on_train_end(self, trainer: TrainerState) -> None:
        """Flush the TensorBoard writer so the last image is on disk."""
        if self.tb_writer is not None and is_main_process(trainer):
            flush = getattr(self.tb_writer, "flush", None)
            if callable(flush):
                flush()

    def __call__(self, trainer: TrainerState) -> None:
        """Render and write the image at step ``trainer.epoch`` (main process only).

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).
        """
        if not is_main_process(trainer):
            return
        self._checked_model(trainer)
        step = int(trainer_attribute(self.owner, trainer, "epoch"))
        image = self.make_image(trainer)
        if self.tb_writer is not None:
            self.tb_writer.add_image(self.tb_name, image, step)
        if self.folder_writer is not None:
            self.written_paths.append(str(self.folder_writer.write(self.tb_name, image, step)))

"""The first 25 images of a dataset in a 5x5 grid, each titled with the predicted class."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from pygen.callbacks._common import check_dataset, check_positive_int, model_device
from pygen.callbacks._images import (
    ImageCallback,
    check_value_range,
    evaluation_mode,
    first_dataset_images,
    to_unit_images,
)
from pygen.callbacks.labelled_images_grid import make_labelled_images_grid
from pygen.train.state import TrainerState

__all__ = ["TBClassifyImagesCallback"]

_GRID_SIDE = 5


class TBClassifyImagesCallback(ImageCallback):
    """Logs the first 25 images of ``dataset`` in a 5 x 5 grid titled with predicted names.

    For classifiers: layers that map a batch of images to a categorical distribution over
    classes (what ``LayerTrainer`` trains on ``(image, label)`` data). Each epoch the
    callback runs ``trainer.trainable`` on the first 25 images (the first element of each
    dataset item), takes the most probable class of each (``argmax`` of the output's
    ``logits``, or of ``probs``; the original drew a random sample instead) and titles
    the image with ``class_labels[class]``. Where the dataset items carry their class
    (``(image, label)`` with an integer label), a mistake is titled in red with the true
    class beside it, ``"5 (true 3)"``, and a line above the grid says what the titles are
    and how many of the 25 are wrong. The figure is drawn with matplotlib's Agg
    backend on a private ``Figure`` (no pyplot state).

    The grid goes to TensorBoard under ``tb_name`` at step ``trainer.epoch`` and/or to
    ``<folder>/<tb_name>_<epoch:04d>.png``. Only the main process writes.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``, or None to write files only.
        tb_name: the TensorBoard tag (and file-name stem).
        dataset: a map-style dataset of ``(image, label)`` pairs (or of images) with at
            least 25 items; images are ``[C, H, W]`` with ``C`` in ``{1, 3}``, or ``[H, W]``.
        class_labels: the class names, ``class_labels[i]`` for class index ``i``.
        value_range: the ``(low, high)`` pixel range shown as black to white.
        dpi: rendering resolution; the grid is ``10 * dpi`` pixels square.

    Raises:
        TypeError: for a bad writer, dataset or labels, or on use if the model's output has no
            categories (neither ``logits`` nor ``probs``).
        ValueError: for a dataset with fewer than 25 items, no labels, an unwritable folder,
            or on use if the number of categories differs from ``len(class_labels)``.

    Example:
        >>> import tempfile, torch
        >>> from torch import distributions as D
        >>> classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
        >>> class Classifier(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.net = classifier
        ...
        ...     def forward(self, images):
        ...         return D.Categorical(logits=self.net(images))
        >>> dataset = torch.utils.data.TensorDataset(torch.rand(30, 1, 8, 8), torch.zeros(30))
        >>> callback = TBClassifyImagesCallback(
        ...     None, "classified", dataset, ["a", "b", "c"], dpi=20, folder=tempfile.mkdtemp()
        ... )
        >>> trainer = type("T", (), {"trainable": Classifier(), "epoch": 0})()
        >>> callback.make_image(trainer).shape
        torch.Size([3, 200, 200])
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str,
        dataset: Any,
        class_labels: Sequence[str],
        *,
        value_range: tuple[float, float] = (0.0, 1.0),
        dpi: int = 100,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__("TBClassifyImagesCallback", tb_writer, tb_name, folder)
        count = _GRID_SIDE * _GRID_SIDE
        check_dataset(self.owner, dataset, minimum=count)
        if isinstance(class_labels, str) or not isinstance(class_labels, Sequence):
            raise TypeError(
                f"{self.owner}: class_labels must be a sequence of class names (str); "
                f"got {type(class_labels).__name__}"
            )
        if not class_labels:
            raise ValueError(f"{self.owner}: class_labels must name at least one class; got []")
        self.class_labels = [str(label) for label in class_labels]
        self.value_range = check_value_range(self.owner, value_range)
        self.dpi = check_positive_int(self.owner, "dpi", dpi)
        self.images = first_dataset_images(self.owner, dataset, count, self.value_range)
        self.true_classes = first_dataset_classes(dataset, count, len(self.class_labels))

    def check_model(self, model: Any) -> None:
        """Raise TypeError unless ``model`` is callable.

        Args:
            model: the trainable.

        Raises:
            TypeError: if ``model`` cannot be called.
        """
        if not callable(model):
            raise TypeError(
                f"{self.owner}: the trainable must be a classifier layer, model(images) -> "
                f"categorical distribution; got non-callable {type(model).__name__}"
            )

    def predict(self, trainer: TrainerState) -> list[str]:
        """The predicted class name of each of the 25 images.

        Args:
            trainer: the trainer whose ``trainable`` is the classifier.

        Returns:
            25 class names.

        Raises:
            TypeError: if the output has neither ``logits`` nor ``probs``.
            ValueError: if the output's categories do not match ``class_labels`` or its batch
                is not one prediction per image.
        """
        model = self._checked_model(trainer)
        with evaluation_mode(model):
            output = model(self.images.to(model_device(trainer, model)))
            scores = getattr(output, "logits", None)
            if not isinstance(scores, torch.Tensor):
                scores = getattr(output, "probs", None)
            if not isinstance(scores, torch.Tensor):
                raise TypeError(
                    f"{self.owner}: the classifier's output must be a categorical distribution "
                    f"with logits or probs (e.g. torch.distributions.Categorical); "
                    f"got {type(output).__name__} without categories"
                )
        expected = (len(self.images), len(self.class_labels))
        if tuple(scores.shape) != expected:
            raise ValueError(
                f"{self.owner}: the classifier's categories must be [images, classes] = "
                f"{list(expected)} (one per class label); got logits/probs of shape "
                f"{list(scores.shape)}"
            )
        return [self.class_labels[index] for index in scores.argmax(dim=-1).tolist()]

    def make_image(self, trainer: TrainerState) -> torch.Tensor:
        """Classify the 25 images and draw the titled 5 x 5 grid.

        Args:
            trainer: the trainer whose ``trainable`` is the classifier.

        Returns:
            A float image ``[3, 10 * dpi, 10 * dpi]`` in ``[0, 1]``.
        """
        labels = self.predict(trainer)
        images = to_unit_images(self.owner, self.images, self.value_range, "the dataset images")
        if self.true_classes is None:
            return make_labelled_images_grid(
                images, labels, ncols=_GRID_SIDE, dpi=self.dpi, title="title: predicted class"
            )
        truths = [self.class_labels[index] for index in self.true_classes]
        titles = [
            label if label == truth else f"{label} (true {truth})"
            for label, truth in zip(labels, truths, strict=True)
        ]
        mistakes = [label != truth for label, truth in zip(labels, truths, strict=True)]
        colors = ["red" if mistake else "black" for mistake in mistakes]
        wrong = sum(mistakes)
        title = f"title: predicted class; in red, a mistake (true class); {wrong} of 25 wrong"
        return make_labelled_images_grid(
            images, titles, ncols=_GRID_SIDE, dpi=self.dpi, title=title, colors=colors
        )


def first_dataset_classes(dataset: Any, count: int, num_classes: int) -> list[int] | None:
    """The true class indices of the first ``count`` items, or None where they have none.

    An item's class is its second element when that is an integer (or a one-element
    integer tensor) in ``range(num_classes)``; otherwise the grid shows predictions only.
    """
    classes = []
    for index in range(count):
        item = dataset[index]
        if not isinstance(item, tuple | list) or len(item) < 2:
            return None
        label = item[1]
        if isinstance(label, torch.Tensor):
            if label.numel() != 1 or label.is_floating_point() or label.is_complex():
                return None
            label = int(label.item())
        if isinstance(label, bool) or not isinstance(label, int):
            return None
        if not 0 <= label < num_classes:
            return None
        classes.append(label)
    return classes

"""Samples from a conditional model (a layer) for each of a set of conditioning inputs."""

from __future__ import annotations

import os
from typing import Any

import torch
from torchvision.utils import make_grid

from pygen.callbacks._common import check_positive_int, model_device
from pygen.callbacks._images import (
    ImageCallback,
    check_value_range,
    evaluation_mode,
    to_unit_images,
)
from pygen.train.state import TrainerState

__all__ = ["TBConditionalImagesCallback"]


class TBConditionalImagesCallback(ImageCallback):
    """Logs a grid with one row per conditioning input, ``num_samples`` samples per row.

    For layers that map a conditioning tensor to a distribution over images (what
    ``LayerTrainer(..., reverse_inputs=True)`` trains on ``(image, label)`` data). The
    callback calls ``trainer.trainable(conditionals)`` once, draws ``sample([num_samples])``
    from the result (``[num_samples, N, C, H, W]``), and lays the samples out so row ``i``
    holds the samples for ``conditionals[i]``.

    By default the conditioning inputs are the ``num_labels`` one-hot vectors
    ``torch.eye(num_labels)`` (the original: the ten digit labels, one-hot, two samples
    each), which suits a model whose first layer is ``nn.Linear(num_labels, ...)``. A model
    that takes integer labels (e.g. one starting with ``nn.Embedding`` or a one-hot layer)
    gets ``conditionals=torch.arange(num_labels)``; any other batch of inputs works too.

    The grid goes to TensorBoard under ``tb_name`` at step ``trainer.epoch`` and/or to
    ``<folder>/<tb_name>_<epoch:04d>.png``. Only the main process writes.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``, or None to write files only.
        tb_name: the TensorBoard tag (and file-name stem).
        num_labels: the number of one-hot labels used when ``conditionals`` is None.
        conditionals: a tensor whose first dimension lists the conditioning inputs, or None
            for ``torch.eye(num_labels)``.
        num_samples: samples drawn per conditioning input.
        value_range: the ``(low, high)`` range of the samples, mapped to black and white.
        padding: pixels between grid cells.
        folder: a folder to also write each grid to as PNG, or None.

    Raises:
        TypeError: for a bad writer or ``conditionals`` that is not a tensor, or on first use
            if the model is not callable.
        ValueError: for non-positive counts, empty ``conditionals``, a bad ``value_range``,
            an unwritable folder, or on use if the model's samples are not images per input.

    Example:
        >>> import tempfile, torch
        >>> from torch import distributions as D
        >>> class DigitImages(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.linear = torch.nn.Linear(10, 64)
        ...
        ...     def forward(self, one_hot):
        ...         logits = self.linear(one_hot).reshape(-1, 1, 8, 8)
        ...         return D.Independent(D.Bernoulli(logits=logits), 3)
        >>> trainer = type("T", (), {"trainable": DigitImages(), "epoch": 3})()
        >>> callback = TBConditionalImagesCallback(None, "digits", folder=tempfile.mkdtemp())
        >>> callback.make_image(trainer).shape  # 10 rows, 2 columns of 8x8 with padding 10
        torch.Size([3, 190, 46])
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str,
        num_labels: int = 10,
        *,
        conditionals: torch.Tensor | None = None,
        num_samples: int = 2,
        value_range: tuple[float, float] = (0.0, 1.0),
        padding: int = 10,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__("TBConditionalImagesCallback", tb_writer, tb_name, folder)
        self.num_labels = check_positive_int(self.owner, "num_labels", num_labels)
        if conditionals is None:
            conditionals = torch.eye(self.num_labels)
        elif not isinstance(conditionals, torch.Tensor):
            raise TypeError(
                f"{self.owner}: conditionals must be a torch.Tensor whose first dimension lists "
                f"the conditioning inputs; got {type(conditionals).__name__}"
            )
        elif conditionals.dim() == 0 or conditionals.shape[0] == 0:
            raise ValueError(
                f"{self.owner}: conditionals must hold at least one conditioning input along "
                f"dimension 0; got shape {list(conditionals.shape)}"
            )
        self.conditionals = conditionals
        self.num_samples = check_positive_int(self.owner, "num_samples", num_samples)
        self.padding = check_positive_int(self.owner, "padding", padding, minimum=0)
        self.value_range = check_value_range(self.owner, value_range)

    def check_model(self, model: Any) -> None:
        """Raise TypeError unless ``model`` is callable (a layer returning a distribution).

        Args:
            model: the trainable.

        Raises:
            TypeError: if ``model`` cannot be called.
        """
        if not callable(model):
            raise TypeError(
                f"{self.owner}: the trainable must be a layer, model(conditionals) -> "
                f"distribution; got non-callable {type(model).__name__}"
            )

    def make_image(self, trainer: TrainerState) -> torch.Tensor:
        """Sample every conditioning input ``num_samples`` times and arrange the grid.

        Args:
            trainer: the trainer whose ``trainable`` is the conditional model.

        Returns:
            A float image ``[3, H', W']`` in ``[0, 1]``, one row per conditioning input.
        """
        model = self._checked_model(trainer)
        inputs = self.conditionals.to(model_device(trainer, model))
        with evaluation_mode(model):
            distribution = model(inputs)
            sample = getattr(distribution, "sample", None)
            if not callable(sample):
                raise TypeError(
                    f"{self.owner}: trainable(conditionals) must return a distribution with "
                    f"sample(); got {type(distribution).__name__}"
                )
            samples = sample(torch.Size([self.num_samples]))
        count = inputs.shape[0]
        if not isinstance(samples, torch.Tensor) or samples.shape[:2] != (self.num_samples, count):
            found = list(samples.shape) if isinstance(samples, torch.Tensor) else samples
            raise ValueError(
                f"{self.owner}: sample([{self.num_samples}]) of trainable(conditionals) must "
                f"start with [{self.num_samples}, {count}] (samples, conditioning inputs); "
                f"got {found}"
            )
        per_input = samples.transpose(0, 1).flatten(0, 1)
        images = to_unit_images(self.owner, per_input, self.value_range, "the samples")
        return make_grid(images, nrow=self.num_samples, padding=self.padding)

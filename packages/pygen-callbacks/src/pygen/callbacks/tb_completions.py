"""A grid of held-out images, their observed parts and the model's completions, each epoch."""

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
    to_unit_images,
)
from pygen.train.state import TrainerState

__all__ = ["TBCompletionsCallback"]


class TBCompletionsCallback(ImageCallback):
    """Logs dataset images, their observed parts and ``num_completions`` completions each.

    For autoregressive image models with a ``complete(x, observed_mask,
    sample_shape, ...)`` method (``pygen.distributions``' PixelCNN family and MADE); the
    callback is duck-typed and needs nothing else of the model. Each grid row shows one
    of the first ``num_images`` images of ``dataset``: the image, its observed part (the
    unobserved sub-pixels drawn mid-grey), then ``num_completions`` completions, so the
    grid has ``2 + num_completions`` columns. By default the top half of every image
    (rows ``< H // 2``) is observed, which for a raster-order model is exact sampling of
    the bottom half given the top; ``observed_mask`` sets any other bool mask.

    The callback calls ``model.complete(x, observed_mask, (num_completions,),
    temperature=temperature, generator=...)`` without gradients, the model in eval mode
    (training flags restored afterwards). With ``seed`` (the default 0) every epoch uses
    a generator seeded alike, so successive grids differ only by what the model learnt;
    ``seed=None`` passes no generator (for models whose ``complete`` takes none). With
    ``use_conditions=True`` the dataset yields ``(image, condition)`` pairs and the
    trainable is a layer (what ``LayerTrainer(..., reverse_inputs=True)`` trains):
    the callback completes ``trainable(conditions).complete(x, observed_mask, ...)``.

    The grid goes to TensorBoard under ``tb_name`` at step ``trainer.epoch``
    (``add_image``, ``[3, H', W']``), and/or to ``<folder>/<tb_name>_<epoch:04d>.png`` when
    ``folder`` is given. Only the main process writes.

    Args:
        tb_writer: a ``torch.utils.tensorboard.SummaryWriter``, or None to write files only.
        tb_name: the TensorBoard tag (and file-name stem).
        dataset: a map-style dataset of images or ``(image, ...)`` tuples (e.g. the
            validation set), with at least ``num_images`` items.
        num_images: how many images to complete (one grid row each).
        num_completions: completions drawn per image.
        observed_mask: a bool tensor of the images' shape ``[C, H, W]``, ``True`` where
            observed, or None for the top half.
        temperature: passed to ``complete`` (1 samples the model itself).
        seed: seed of the generator passed to ``complete`` each epoch, or None for none.
        use_conditions: complete ``trainable(condition)`` for ``(image, condition)`` items.
        value_range: the ``(low, high)`` range of the images, mapped to black and white.
        padding: pixels between grid cells.
        folder: a folder to also write each grid to as PNG, or None.

    Raises:
        TypeError: for a bad writer, dataset, mask or temperature, or on first use if the
            model has no ``complete`` method (or, with ``use_conditions``, is not callable).
        ValueError: for a non-positive count, a dataset that is too small or whose first
            items are not images of one shape, a mask of another shape, a non-positive
            temperature, or on use if the completions are not shaped
            ``[num_completions, num_images, C, H, W]``.

    Example:
        >>> import tempfile, torch
        >>> class Ones(torch.nn.Module):
        ...     def complete(self, images, observed_mask, sample_shape, **kwargs):
        ...         filled = torch.where(observed_mask, images, torch.ones_like(images))
        ...         return filled.expand(*sample_shape, *images.shape)
        >>> dataset = torch.utils.data.TensorDataset(torch.zeros(10, 1, 8, 8))
        >>> trainer = type("T", (), {"trainable": Ones(), "epoch": 0})()
        >>> callback = TBCompletionsCallback(
        ...     None, "completions", dataset, num_images=4, folder=tempfile.mkdtemp()
        ... )
        >>> callback.make_image(trainer).shape  # 4 rows of 2 + 3 cells of 8x8, 2 pixels apart
        torch.Size([3, 42, 52])
        >>> callback(trainer)
        >>> callback.written_paths[0].endswith("completions_0000.png")
        True
    """

    def __init__(
        self,
        tb_writer: Any,
        tb_name: str,
        dataset: Any,
        *,
        num_images: int = 8,
        num_completions: int = 3,
        observed_mask: torch.Tensor | None = None,
        temperature: float = 1.0,
        seed: int | None = 0,
        use_conditions: bool = False,
        value_range: tuple[float, float] = (0.0, 1.0),
        padding: int = 2,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__("TBCompletionsCallback", tb_writer, tb_name, folder)
        self.num_images = check_positive_int(self.owner, "num_images", num_images)
        self.num_completions = check_positive_int(self.owner, "num_completions", num_completions)
        self.padding = check_positive_int(self.owner, "padding", padding, minimum=0)
        self.value_range = check_value_range(self.owner, value_range)
        if not isinstance(temperature, int | float) or isinstance(temperature, bool):
            raise TypeError(
                f"{self.owner}: temperature must be a positive number; "
                f"got {type(temperature).__name__}"
            )
        if not temperature > 0:
            raise ValueError(f"{self.owner}: temperature must be > 0; got {temperature}")
        self.temperature = float(temperature)
        self.seed = (
            None if seed is None else check_positive_int(self.owner, "seed", seed, minimum=0)
        )
        if not isinstance(use_conditions, bool):
            raise TypeError(
                f"{self.owner}: use_conditions must be a bool; got {type(use_conditions).__name__}"
            )
        self.use_conditions = use_conditions
        check_dataset(self.owner, dataset, minimum=self.num_images)
        items = [dataset[index] for index in range(self.num_images)]
        pairs = [item if isinstance(item, tuple | list) else (item,) for item in items]
        self.images = self._stack([pair[0] for pair in pairs], "images")
        self.conditions = None
        if use_conditions:
            if any(len(pair) < 2 for pair in pairs):
                raise ValueError(
                    f"{self.owner}: use_conditions=True needs (image, condition) dataset items; "
                    f"got items of length {sorted({len(pair) for pair in pairs})}"
                )
            self.conditions = self._stack([pair[1] for pair in pairs], "conditions")
        # Fails now, not at the end of the first epoch, if these are not images.
        to_unit_images(self.owner, self.images, self.value_range, "the dataset images")
        self.observed_mask = self._check_mask(observed_mask)

    def _stack(self, tensors: list[Any], what: str) -> torch.Tensor:
        tensors = [torch.as_tensor(t) if isinstance(t, int | float) else t for t in tensors]
        if not all(isinstance(t, torch.Tensor) for t in tensors):
            raise TypeError(
                f"{self.owner}: dataset {what} must be tensors; got first element of type "
                f"{type(tensors[0]).__name__}"
            )
        try:
            return torch.stack(tensors)
        except RuntimeError as error:
            raise ValueError(
                f"{self.owner}: the first {self.num_images} dataset {what} must share one "
                f"shape; got {sorted({tuple(t.shape) for t in tensors})}"
            ) from error

    def _check_mask(self, observed_mask: Any) -> torch.Tensor:
        image_shape = tuple(self.images.shape[1:])
        if observed_mask is None:
            mask = torch.zeros(image_shape, dtype=torch.bool)
            mask[..., : image_shape[-2] // 2, :] = True
            return mask
        if not isinstance(observed_mask, torch.Tensor) or observed_mask.dtype != torch.bool:
            found = (
                observed_mask.dtype
                if isinstance(observed_mask, torch.Tensor)
                else type(observed_mask).__name__
            )
            raise TypeError(
                f"{self.owner}: observed_mask must be a bool tensor (True = observed); got {found}"
            )
        if tuple(observed_mask.shape) != image_shape:
            raise ValueError(
                f"{self.owner}: observed_mask must have the images' shape {list(image_shape)}; "
                f"got {list(observed_mask.shape)}"
            )
        return observed_mask

    def check_model(self, model: Any) -> None:
        """Raise TypeError unless ``model`` can complete images.

        Args:
            model: the trainable.

        Raises:
            TypeError: if ``model.complete`` is missing, or with ``use_conditions`` if the
                model cannot be called.
        """
        if self.use_conditions:
            if not callable(model):
                raise TypeError(
                    f"{self.owner}: with use_conditions=True the trainable must be a layer, "
                    f"model(conditions) -> a distribution with complete(); got non-callable "
                    f"{type(model).__name__}"
                )
            return
        if not callable(getattr(model, "complete", None)):
            raise TypeError(
                f"{self.owner}: the trainable must have a complete(images, observed_mask, "
                f"sample_shape, ...) method (e.g. a pygen.distributions PixelCNN or MADE); "
                f"got {type(model).__name__} without one"
            )

    def make_image(self, trainer: TrainerState) -> torch.Tensor:
        """Complete the images and arrange image, observed part and completions per row.

        Args:
            trainer: the trainer whose ``trainable`` completes.

        Returns:
            A float image ``[3, H', W']`` in ``[0, 1]``.

        Raises:
            TypeError: with ``use_conditions``, if ``trainable(conditions)`` has no
                ``complete``.
            ValueError: if the completions are not shaped
                ``[num_completions, num_images, *image_shape]``.
        """
        model = self._checked_model(trainer)
        device = model_device(trainer, model)
        images = self.images.to(device)
        mask = self.observed_mask.to(device)
        kwargs: dict[str, Any] = {"temperature": self.temperature}
        if self.seed is not None:
            kwargs["generator"] = torch.Generator().manual_seed(self.seed)
        with evaluation_mode(model):
            completer = model
            if self.conditions is not None:
                completer = model(self.conditions.to(device))
            complete = getattr(completer, "complete", None)
            if not callable(complete):
                raise TypeError(
                    f"{self.owner}: trainable(conditions) must return a distribution with "
                    f"complete(); got {type(completer).__name__}"
                )
            completions = complete(images, mask, torch.Size([self.num_completions]), **kwargs)
        expected = (self.num_completions, *self.images.shape)
        if not isinstance(completions, torch.Tensor) or tuple(completions.shape) != expected:
            raise ValueError(
                f"{self.owner}: complete(images, observed_mask, [{self.num_completions}]) must "
                f"return {list(expected)} (completions, images, ...); "
                f"got {describe_shape(completions)}"
            )
        inputs = to_unit_images(self.owner, self.images, self.value_range, "the dataset images")
        observed = torch.where(self.observed_mask, inputs, torch.full_like(inputs, 0.5))
        filled = to_unit_images(
            self.owner, completions.flatten(0, 1), self.value_range, "the completions"
        ).unflatten(0, (self.num_completions, self.num_images))
        rows = torch.cat([inputs[:, None], observed[:, None], filled.transpose(0, 1)], dim=1)
        return make_grid(rows.flatten(0, 1), nrow=2 + self.num_completions, padding=self.padding)

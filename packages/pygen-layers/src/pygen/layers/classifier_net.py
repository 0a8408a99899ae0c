"""ClassifierNet: the original pygen's small convolutional classifier (returns logits)."""

from __future__ import annotations

import torch
from torch import nn

from pygen.layers._params import check_positive_int

__all__ = ["ClassifierNet"]


class ClassifierNet(nn.Module):
    """A small convolutional network mapping images to class logits.

    The architecture of the Keras ``mnist_cnn`` example, used by the original pygen:
    ``Conv(32, 3x3) -> ReLU -> Conv(64, 3x3) -> ReLU -> MaxPool(2) -> Dropout(0.25) ->
    Linear(128) -> ReLU -> Dropout(0.5) -> Linear(num_classes)``. Put a
    :class:`~pygen.layers.categorical.Categorical` layer after it to get a distribution
    over labels.

    Inputs are channel-first: ``[*batch, 1, 28, 28]`` when ``mnist=True`` (MNIST,
    Fashion-MNIST), ``[*batch, 3, 32, 32]`` otherwise (CIFAR-10). The output is
    ``[*batch, num_classes]``; any number of leading batch dimensions is accepted.

    Args:
        mnist: ``True`` for 28x28 greyscale inputs, ``False`` for 32x32 colour inputs.
        num_classes: Number of output logits.

    Raises:
        TypeError: If ``mnist`` is not a bool or ``num_classes`` is not an int.
        ValueError: If ``num_classes`` is not positive.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import Categorical, ClassifierNet
        >>> model = nn.Sequential(ClassifierNet(mnist=True), Categorical())
        >>> d = model(torch.rand(4, 1, 28, 28))
        >>> d.batch_shape
        torch.Size([4])
        >>> d.log_prob(torch.tensor([0, 1, 2, 3])).shape
        torch.Size([4])
    """

    def __init__(self, mnist: bool = True, num_classes: int = 10) -> None:
        super().__init__()
        if not isinstance(mnist, bool):
            raise TypeError(f"mnist must be a bool, got {type(mnist).__name__} ({mnist!r})")
        self.mnist = mnist
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.input_shape = torch.Size((1, 28, 28) if mnist else (3, 32, 32))
        channels, height, _ = self.input_shape
        pooled = (height - 4) // 2
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, kernel_size=3),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(64 * pooled * pooled, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, num_classes),
        )

    def extra_repr(self) -> str:
        return f"mnist={self.mnist}, num_classes={self.num_classes}"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Compute class logits.

        Args:
            images: ``[*batch, C, H, W]`` images with ``[C, H, W] == input_shape``.

        Returns:
            ``[*batch, num_classes]`` logits.

        Raises:
            TypeError: If ``images`` is not a floating-point tensor.
            ValueError: If the trailing dimensions of ``images`` are not ``input_shape``.
        """
        if not isinstance(images, torch.Tensor) or not images.is_floating_point():
            found = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
            raise TypeError(f"ClassifierNet: images must be a floating-point tensor, got {found}")
        if images.dim() < 3 or images.shape[-3:] != self.input_shape:
            raise ValueError(
                f"ClassifierNet(mnist={self.mnist}): images must have shape "
                f"[*batch, {', '.join(map(str, self.input_shape))}] (channel-first), "
                f"got {list(images.shape)}"
            )
        batch_shape = images.shape[:-3]
        logits = self.head(self.features(images.reshape(-1, *self.input_shape)))
        return logits.reshape(*batch_shape, self.num_classes)

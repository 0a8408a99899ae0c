"""ClassifierNet: the original pygen's small convolutional classifier (returns logits)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from pygen.layers._params import check_positive_int

__all__ = ["ClassifierNet"]


class ClassifierNet(nn.Module):
    """A small convolutional network mapping images to class logits.

    The architecture of the Keras ``mnist_cnn`` example, used by the original pygen:
    ``conv1 = Conv(32, 3x3) -> ReLU -> conv2 = Conv(64, 3x3) -> ReLU -> MaxPool(2) ->
    Dropout(0.25) -> fc1 = Linear(128) -> ReLU -> Dropout(0.5) -> fc2 = Linear(num_classes)``
    (unpadded convolutions, unless ``padding`` is given). Put a
    :class:`~pygen.layers.categorical.Categorical` layer after it to get a distribution
    over labels.

    The parameters live in ``conv1``, ``conv2``, ``fc1`` and ``fc2``, the original's
    names, so a ``state_dict`` saved from the original's ``ClassifierNet`` loads as it is
    (the dropouts hold no parameters).

    Inputs are channel-first, ``[*batch, *input_shape]``: ``[1, 28, 28]`` when
    ``mnist=True`` (MNIST, Fashion-MNIST), ``[3, 32, 32]`` when ``mnist=False``
    (CIFAR-10), or any ``input_shape=[C, H, W]`` large enough for the two convolutions and
    the pool (``H, W >= 6`` unpadded, ``>= 2`` with ``padding=1``; e.g. the 8x8 digits).
    The output is ``[*batch, num_classes]``; any number of leading batch dimensions is
    accepted.

    Args:
        mnist: ``True`` for 28x28 greyscale inputs, ``False`` for 32x32 colour inputs;
            ignored when ``input_shape`` is given.
        num_classes: Number of output logits.
        input_shape: ``[C, H, W]`` of one image, overriding ``mnist``.
        padding: Zero-padding of both convolutions: ``0`` (the original's) or ``1``
            (small images keep their size up to the pool, as the examples do for the
            8x8 digits).

    Raises:
        TypeError: If ``mnist`` is not a bool, ``num_classes`` not an int, or
            ``input_shape`` not a sequence of three ints.
        ValueError: If ``num_classes`` or a size of ``input_shape`` is not positive,
            ``padding`` is not 0 or 1, or the image is too small for the network.

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
        >>> digits = ClassifierNet(num_classes=10, input_shape=[1, 8, 8], padding=1)
        >>> digits(torch.rand(5, 1, 8, 8)).shape
        torch.Size([5, 10])
        >>> sorted(ClassifierNet().state_dict())[:3]
        ['conv1.bias', 'conv1.weight', 'conv2.bias']
    """

    def __init__(
        self,
        mnist: bool = True,
        num_classes: int = 10,
        *,
        input_shape: Sequence[int] | None = None,
        padding: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(mnist, bool):
            raise TypeError(f"mnist must be a bool, got {type(mnist).__name__} ({mnist!r})")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        if input_shape is None:
            input_shape = (1, 28, 28) if mnist else (3, 32, 32)
        if padding not in (0, 1) or isinstance(padding, bool):
            raise ValueError(f"padding must be 0 or 1, got {padding!r}")
        self.padding = padding
        self.input_shape = _check_input_shape(input_shape, padding)
        channels, height, width = self.input_shape
        shrink = 4 - 4 * padding  # what the two 3x3 convolutions take off each side
        pooled = ((height - shrink) // 2) * ((width - shrink) // 2)
        self.conv1 = nn.Conv2d(channels, 32, kernel_size=3, padding=padding)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=padding)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(64 * pooled, 128)
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, num_classes)

    def extra_repr(self) -> str:
        padding = f", padding={self.padding}" if self.padding else ""
        return f"input_shape={list(self.input_shape)}, num_classes={self.num_classes}{padding}"

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
                f"ClassifierNet(input_shape={list(self.input_shape)}): images must have shape "
                f"[*batch, {', '.join(map(str, self.input_shape))}] (channel-first), "
                f"got {list(images.shape)}"
            )
        batch_shape = images.shape[:-3]
        x = images.reshape(-1, *self.input_shape)
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2)).flatten(1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return self.fc2(x).reshape(*batch_shape, self.num_classes)


def _check_input_shape(input_shape: object, padding: int) -> torch.Size:
    """``input_shape`` as a ``torch.Size`` ``[C, H, W]``, large enough for ``padding``."""
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
        or any(isinstance(s, bool) or not isinstance(s, int) for s in input_shape)
    ):
        raise TypeError(
            f"input_shape must be a sequence of three ints [C, H, W], got {input_shape!r}"
        )
    channels, height, width = input_shape
    smallest = 6 - 4 * padding  # two 3x3 convolutions and a 2x2 pool leave one pixel
    if channels < 1 or height < smallest or width < smallest:
        raise ValueError(
            f"input_shape must be [C, H, W] with C >= 1 and H, W >= {smallest} "
            f"(padding={padding}), got {list(input_shape)}"
        )
    return torch.Size(input_shape)

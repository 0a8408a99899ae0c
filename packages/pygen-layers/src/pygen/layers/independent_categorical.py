"""IndependentCategorical layer: one categorical variable per event element."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import Categorical
from pygen.layers._params import (
    as_event_shape,
    check_positive_int,
    describe,
    independent,
    params_size_method,
    reshape_params_by_element,
)

__all__ = ["IndependentCategorical"]


class IndependentCategorical(nn.Module):
    """Turn logits into independent categorical variables of shape ``event_shape``.

    Parameter transform: none; each event element reads ``num_classes`` logits.
    ``params_size(event_shape, num_classes)`` is ``num_classes * prod(event_shape)``.

    Parameter layout (the original pygen's, element-major: each element's ``num_classes``
    logits are contiguous):

    * flat, ``[*batch, prod(event_shape) * num_classes]``, read as
      ``[*batch, *event_shape, num_classes]``: element ``i``'s logits are
      ``params[..., i * num_classes : (i + 1) * num_classes]``;
    * channel-first, ``[*batch, C * num_classes, H, W]`` for ``event_shape=[C, H, W]``
      (a convolution's output): channels ``c * num_classes .. c * num_classes +
      num_classes - 1`` hold channel ``c``'s logits at every pixel.

    The two are not one another flattened; a shape that fits neither raises ``ValueError``.

    Returns ``Independent(Categorical(logits), len(event_shape))``: ``batch_shape == batch``,
    ``event_shape == event_shape``; values are integer class labels.

    Args:
        event_shape: Shape of one event, e.g. ``[1, 28, 28]``.
        num_classes: Number of classes per element.

    Raises:
        TypeError: If ``event_shape`` or ``num_classes`` has the wrong type.
        ValueError: If a size is not positive.

    Example:
        Flat: two elements, three classes each; element 0 reads logits 0..2, element 1
        reads logits 3..5.

        >>> import torch
        >>> from pygen.layers import IndependentCategorical
        >>> layer = IndependentCategorical(event_shape=[2], num_classes=3)
        >>> layer.params_size(), IndependentCategorical.params_size([2], 3)
        (6, 6)
        >>> d = layer(torch.tensor([[0.0, 0.0, 10.0, 10.0, 0.0, 0.0]]))
        >>> d.mode
        tensor([[2, 0]])

        Channel-first: an 8x8 single-channel image with 4 classes per pixel, from a
        convolution with ``1 * 4`` output channels.

        >>> conv_out = torch.randn(2, 4, 8, 8)
        >>> d = IndependentCategorical([1, 8, 8], num_classes=4)(conv_out)
        >>> d.batch_shape, d.event_shape
        (torch.Size([2]), torch.Size([1, 8, 8]))
        >>> bool((d.mode[:, 0] == conv_out.argmax(1)).all())
        True
    """

    def __init__(self, event_shape: int | Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)
        self.num_classes = check_positive_int(num_classes, "num_classes")

    @params_size_method
    def params_size(event_shape: int | Sequence[int], num_classes: int) -> int:
        """Number of parameters the layer reads: ``num_classes * prod(event_shape)``.

        Args:
            event_shape: Shape of one event.
            num_classes: Number of classes per element.

        Returns:
            The size of the flat parameter vector.
        """
        return check_positive_int(num_classes, "num_classes") * as_event_shape(event_shape).numel()

    def extra_repr(self) -> str:
        return f"event_shape={list(self.event_shape)}, num_classes={self.num_classes}"

    def forward(self, params: torch.Tensor) -> Distribution:
        """Build the distribution.

        Args:
            params: Logits, flat or channel-first (see the class docstring).

        Returns:
            ``Independent(Categorical)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        logits = reshape_params_by_element(
            params, self.event_shape, self.num_classes, describe(self)
        )
        return independent(Categorical(logits=logits), len(self.event_shape))

"""IndependentCategorical layer: one categorical variable per event element."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Categorical, Distribution

from pygen.layers._params import (
    as_event_shape,
    check_positive_int,
    describe,
    independent,
    parameter_block,
    reshape_params,
)

__all__ = ["IndependentCategorical"]


class IndependentCategorical(nn.Module):
    """Turn logits into independent categorical variables of shape ``event_shape``.

    Parameter transform: none; each event element reads ``num_classes`` logits.
    ``params_size(event_shape, num_classes)`` is ``num_classes * prod(event_shape)``.

    Parameter layout: flat, ``[*batch, num_classes * prod(event_shape)]``, read as
    ``[*batch, num_classes, *event_shape]`` (the logits of class ``j`` for every element
    come as one block), or channel-first, ``[*batch, num_classes * C, H, W]`` for
    ``event_shape=[C, H, W]`` (channels ``j*C .. j*C + C - 1`` hold class ``j``'s logits).
    Any other shape raises ``ValueError``.

    Returns ``Independent(Categorical(logits), len(event_shape))``: ``batch_shape == batch``,
    ``event_shape == event_shape``; values are integer class labels.

    Args:
        event_shape: Shape of one event, e.g. ``[1, 28, 28]``.
        num_classes: Number of classes per element.

    Raises:
        TypeError: If ``event_shape`` or ``num_classes`` has the wrong type.
        ValueError: If a size is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import IndependentCategorical
        >>> IndependentCategorical.params_size([1, 8, 8], num_classes=4)
        256
        >>> layer = IndependentCategorical([1, 8, 8], num_classes=4)
        >>> d = layer(torch.randn(2, 4, 8, 8))
        >>> d.batch_shape, d.event_shape
        (torch.Size([2]), torch.Size([1, 8, 8]))
        >>> d.sample().max().item() < 4
        True
    """

    def __init__(self, event_shape: int | Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)
        self.num_classes = check_positive_int(num_classes, "num_classes")

    @staticmethod
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
        p = reshape_params(params, self.event_shape, self.num_classes, describe(self))
        n = len(self.event_shape)
        logits = parameter_block(p, n, 0, self.num_classes)
        return independent(Categorical(logits=logits), n)

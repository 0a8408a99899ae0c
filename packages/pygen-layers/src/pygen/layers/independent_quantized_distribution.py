"""IndependentQuantizedDistribution layer: per-element bucket logits over [0, 1]."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.distributions.quantized_distribution import QuantizedDistribution
from pygen.layers._params import (
    as_event_shape,
    check_positive_int,
    describe,
    independent,
    parameter_block,
    reshape_params,
)

__all__ = ["IndependentQuantizedDistribution"]


class IndependentQuantizedDistribution(nn.Module):
    """Independent quantized values in [0, 1] (``num_buckets`` equal buckets) per element.

    Parameter transform: none; each event element reads ``num_buckets`` bucket logits
    for :class:`pygen.distributions.QuantizedDistribution`.
    ``params_size(event_shape, num_buckets)`` is ``num_buckets * prod(event_shape)``.

    Parameter layout: flat, ``[*batch, num_buckets * prod(event_shape)]``, read as
    ``[*batch, num_buckets, *event_shape]`` (bucket ``j``'s logits for every element come
    as one block), or channel-first, ``[*batch, num_buckets * C, H, W]`` for
    ``event_shape=[C, H, W]`` (channels ``j*C .. j*C + C - 1`` hold bucket ``j``). Any other
    shape raises ``ValueError``.

    Returns ``Independent(QuantizedDistribution(logits), len(event_shape))``:
    ``batch_shape == batch``, ``event_shape == event_shape``; values lie in [0, 1] and
    ``log_prob`` sums the log bucket masses.

    Args:
        event_shape: Shape of one event, e.g. ``[1, 28, 28]``.
        num_buckets: Number of equal buckets of [0, 1] per element.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a size is not positive.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import IndependentQuantizedDistribution
        >>> IndependentQuantizedDistribution.params_size([1, 28, 28], num_buckets=8)
        6272
        >>> layer = IndependentQuantizedDistribution([1, 28, 28], num_buckets=8)
        >>> d = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), layer)(torch.randn(2, 4, 28, 28))
        >>> d.batch_shape, d.event_shape
        (torch.Size([2]), torch.Size([1, 28, 28]))
        >>> d.log_prob(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2])
    """

    def __init__(self, event_shape: int | Sequence[int], num_buckets: int = 8) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)
        self.num_buckets = check_positive_int(num_buckets, "num_buckets")

    @staticmethod
    def params_size(event_shape: int | Sequence[int], num_buckets: int = 8) -> int:
        """Number of parameters the layer reads: ``num_buckets * prod(event_shape)``.

        Args:
            event_shape: Shape of one event.
            num_buckets: Number of buckets per element.

        Returns:
            The size of the flat parameter vector.
        """
        return check_positive_int(num_buckets, "num_buckets") * as_event_shape(event_shape).numel()

    def extra_repr(self) -> str:
        return f"event_shape={list(self.event_shape)}, num_buckets={self.num_buckets}"

    def forward(self, params: torch.Tensor) -> Distribution:
        """Build the distribution.

        Args:
            params: Bucket logits, flat or channel-first (see the class docstring).

        Returns:
            ``Independent(QuantizedDistribution)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        p = reshape_params(params, self.event_shape, self.num_buckets, describe(self))
        n = len(self.event_shape)
        logits = parameter_block(p, n, 0, self.num_buckets)
        return independent(QuantizedDistribution(logits), n)

"""IndependentQuantizedDistribution layer: per-element bucket logits over [0, 1]."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import QuantizedDistribution
from pygen.layers._params import (
    as_event_shape,
    check_positive_int,
    describe,
    independent,
    params_size_method,
    reshape_params_by_element,
)

__all__ = ["IndependentQuantizedDistribution"]


class IndependentQuantizedDistribution(nn.Module):
    """Independent quantized values in [0, 1] (``num_buckets`` equal buckets) per element.

    Parameter transform: none; each event element reads ``num_buckets`` bucket logits
    for :class:`pygen.distributions.QuantizedDistribution`.
    ``params_size(event_shape, num_buckets)`` is ``num_buckets * prod(event_shape)``.

    Parameter layout (the original pygen's, element-major: each element's ``num_buckets``
    logits are contiguous):

    * flat, ``[*batch, prod(event_shape) * num_buckets]``, read as
      ``[*batch, *event_shape, num_buckets]``: element ``i``'s bucket logits are
      ``params[..., i * num_buckets : (i + 1) * num_buckets]``;
    * channel-first, ``[*batch, C * num_buckets, H, W]`` for ``event_shape=[C, H, W]``
      (a convolution's output): channels ``c * num_buckets .. c * num_buckets +
      num_buckets - 1`` hold channel ``c``'s bucket logits at every pixel.

    The two are not one another flattened; a shape that fits neither raises ``ValueError``.

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
        Flat: three elements with 8 buckets each; element ``c`` puts its mass on bucket
        ``b`` by a large logit at position ``c * 8 + b``.

        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import IndependentQuantizedDistribution
        >>> layer = IndependentQuantizedDistribution([3], num_buckets=8)
        >>> layer.params_size()
        24
        >>> logits = torch.full((1, 24), -1e4)
        >>> buckets = torch.tensor([1, 5, 7])
        >>> logits[0, torch.arange(3) * 8 + buckets] = 0.0
        >>> d = layer(logits)
        >>> d.log_prob(((buckets + 0.5) / 8).unsqueeze(0))
        tensor([0.])

        Channel-first: a convolution with ``1 * 8`` output channels for 28x28 images.

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

    @params_size_method
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
        logits = reshape_params_by_element(
            params, self.event_shape, self.num_buckets, describe(self)
        )
        return independent(QuantizedDistribution(logits), len(self.event_shape))

"""IndependentDiscretizedLogisticMixture layer: a PixelCNN++-style per-pixel likelihood."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import DiscretizedLogisticMixture
from pygen.layers._params import (
    as_event_shape,
    check_positive_int,
    describe,
    independent,
    parameter_block,
    params_size_method,
    reshape_params,
)

__all__ = ["IndependentDiscretizedLogisticMixture"]


class IndependentDiscretizedLogisticMixture(nn.Module):
    """Independent mixtures of discretized logistics on the grid of [0, 1], per element.

    Each event element (e.g. each sub-pixel) reads ``3 * num_mixtures`` parameters:
    ``num_mixtures`` mixture logits (as is), ``num_mixtures`` locations (as is) and
    ``num_mixtures`` raw scales, passed through ``softplus`` to make them positive.
    ``params_size(event_shape, num_mixtures)`` is ``3 * num_mixtures * prod(event_shape)``.
    Colour channels are modelled independently (no PixelCNN++ channel coupling).

    Parameter layout: flat, ``[*batch, 3 * M * prod(event_shape)]``, read as
    ``[*batch, 3 * M, *event_shape]``, or channel-first, ``[*batch, 3 * M * C, H, W]`` for
    ``event_shape=[C, H, W]``. Along that parameter axis, blocks ``0 .. M-1`` are logits,
    ``M .. 2M-1`` locations and ``2M .. 3M-1`` raw scales, each block ``C`` channels wide.
    Any other shape raises ``ValueError``.

    Returns ``Independent(DiscretizedLogisticMixture(logits, loc, scale, num_bins),
    len(event_shape))``: ``batch_shape == batch``, ``event_shape == event_shape``; values
    lie on the grid ``k / (num_bins - 1)`` of [0, 1] (8-bit pixels divided by 255).

    Args:
        event_shape: Shape of one event, e.g. ``[3, 32, 32]``.
        num_mixtures: Number of logistic components per element.
        num_bins: Number of grid points (256 for 8-bit data).

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a size is not positive (``num_bins`` must be at least 2).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import IndependentDiscretizedLogisticMixture
        >>> IndependentDiscretizedLogisticMixture.params_size([3, 8, 8], num_mixtures=5)
        2880
        >>> layer = IndependentDiscretizedLogisticMixture([3, 8, 8], num_mixtures=5)
        >>> d = nn.Sequential(nn.Conv2d(16, 45, 1), layer)(torch.randn(2, 16, 8, 8))
        >>> d.batch_shape, d.event_shape
        (torch.Size([2]), torch.Size([3, 8, 8]))
        >>> d.log_prob(d.sample()).shape
        torch.Size([2])

        Flat and channel-first, parameter-major: the flat tensor is the channel-first
        one flattened, so both give the same distribution.

        >>> conv_out = torch.randn(2, 45, 8, 8)
        >>> x = d.sample()
        >>> torch.equal(layer(conv_out).log_prob(x), layer(conv_out.flatten(1)).log_prob(x))
        True
    """

    def __init__(
        self, event_shape: int | Sequence[int], num_mixtures: int, num_bins: int = 256
    ) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)
        self.num_mixtures = check_positive_int(num_mixtures, "num_mixtures")
        if check_positive_int(num_bins, "num_bins") < 2:
            raise ValueError(f"num_bins must be at least 2, got {num_bins}")
        self.num_bins = num_bins

    @params_size_method
    def params_size(event_shape: int | Sequence[int], num_mixtures: int) -> int:
        """Number of parameters the layer reads: ``3 * num_mixtures * prod(event_shape)``.

        Args:
            event_shape: Shape of one event.
            num_mixtures: Number of logistic components per element.

        Returns:
            The size of the flat parameter vector.
        """
        m = check_positive_int(num_mixtures, "num_mixtures")
        return 3 * m * as_event_shape(event_shape).numel()

    def extra_repr(self) -> str:
        return (
            f"event_shape={list(self.event_shape)}, num_mixtures={self.num_mixtures}, "
            f"num_bins={self.num_bins}"
        )

    def forward(self, params: torch.Tensor) -> Distribution:
        """Build the distribution.

        Args:
            params: Logits, locations and raw scales, flat or channel-first.

        Returns:
            ``Independent(DiscretizedLogisticMixture)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        m = self.num_mixtures
        p = reshape_params(params, self.event_shape, 3 * m, describe(self))
        n = len(self.event_shape)
        logits = parameter_block(p, n, 0, m)
        loc = parameter_block(p, n, m, m)
        scale = nn.functional.softplus(parameter_block(p, n, 2 * m, m))
        return independent(DiscretizedLogisticMixture(logits, loc, scale, self.num_bins), n)

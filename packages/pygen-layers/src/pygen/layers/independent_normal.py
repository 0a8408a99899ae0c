"""IndependentNormal layer: a location and a softplus scale per event element."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import Normal
from pygen.layers._params import (
    as_event_shape,
    describe,
    independent,
    loc_and_scale,
    params_size_method,
    reshape_params,
)

__all__ = ["IndependentNormal"]


class IndependentNormal(nn.Module):
    """Turn parameters into independent normal variables of shape ``event_shape``.

    Parameter transforms: the first block of ``prod(event_shape)`` parameters is the
    location (as is); the second block is passed through ``softplus`` to give the scale
    (standard deviation), as in TFP. ``params_size(event_shape)`` is
    ``2 * prod(event_shape)``.

    Parameter layout: flat, ``[*batch, 2 * prod(event_shape)]`` (locations, then raw
    scales), or channel-first, ``[*batch, 2 * C, H, W]`` for ``event_shape=[C, H, W]``
    (channels ``0 .. C-1`` are locations, ``C .. 2C-1`` raw scales). Any other shape raises
    ``ValueError``.

    Returns ``Independent(Normal(loc, scale), len(event_shape))`` (just the ``Normal`` when
    ``event_shape == []``): ``batch_shape == batch``, ``event_shape == event_shape``.

    Args:
        event_shape: Shape of one event; ``[]`` for a scalar.

    Raises:
        TypeError: If ``event_shape`` is not an int or a sequence of ints.
        ValueError: If a dimension of ``event_shape`` is not positive.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import IndependentNormal
        >>> IndependentNormal.params_size(3)
        6
        >>> model = nn.Sequential(
        ...     nn.Linear(5, IndependentNormal.params_size(3)), IndependentNormal(3)
        ... )
        >>> d = model(torch.randn(4, 5))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([3]))
        >>> d.log_prob(torch.zeros(4, 3)).shape
        torch.Size([4])

        Flat and channel-first, parameter-major: for ``event_shape=[1, 2, 2]`` numbers
        0..3 are the locations and 4..7 the raw scales; the same tensor as
        ``[1, 2, 2, 2]`` (a convolution's output) has the locations in channel 0 and
        the raw scales in channel 1, and gives the same distribution.

        >>> layer = IndependentNormal([1, 2, 2])
        >>> layer.params_size()
        8
        >>> flat = torch.arange(8.0).unsqueeze(0)
        >>> layer(flat).mean
        tensor([[[[0., 1.],
                  [2., 3.]]]])
        >>> torch.equal(layer(flat.reshape(1, 2, 2, 2)).stddev, layer(flat).stddev)
        True
    """

    def __init__(self, event_shape: int | Sequence[int] = ()) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)

    @params_size_method
    def params_size(event_shape: int | Sequence[int] = ()) -> int:
        """Number of parameters the layer reads: ``2 * prod(event_shape)``.

        Args:
            event_shape: Shape of one event.

        Returns:
            The size of the flat parameter vector.
        """
        return 2 * as_event_shape(event_shape).numel()

    def extra_repr(self) -> str:
        return f"event_shape={list(self.event_shape)}"

    def forward(self, params: torch.Tensor) -> Distribution:
        """Build the distribution.

        Args:
            params: Locations and raw scales, flat or channel-first.

        Returns:
            ``Independent(Normal)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        p = reshape_params(params, self.event_shape, 2, describe(self))
        n = len(self.event_shape)
        loc, scale = loc_and_scale(p, n)
        return independent(Normal(loc, scale), n)

"""IndependentLogistic layer: a location and a softplus scale per event element."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import Logistic
from pygen.layers._params import (
    as_event_shape,
    describe,
    independent,
    loc_and_scale,
    params_size_method,
    reshape_params,
)

__all__ = ["IndependentLogistic"]


class IndependentLogistic(nn.Module):
    """Turn parameters into independent logistic variables of shape ``event_shape``.

    Parameter transforms: the first block of ``prod(event_shape)`` parameters is the
    location (as is); the second block is passed through ``softplus`` to give the scale,
    as in TFP. ``params_size(event_shape)`` is ``2 * prod(event_shape)``.

    Parameter layout: flat, ``[*batch, 2 * prod(event_shape)]`` (locations, then raw
    scales), or channel-first, ``[*batch, 2 * C, H, W]`` for ``event_shape=[C, H, W]``
    (channels ``0 .. C-1`` are locations, ``C .. 2C-1`` raw scales). Any other shape raises
    ``ValueError``.

    Returns ``Independent(pygen.distributions.Logistic(loc, scale), len(event_shape))``
    (just the ``Logistic`` when ``event_shape == []``): ``batch_shape == batch``,
    ``event_shape == event_shape``.

    Args:
        event_shape: Shape of one event; ``[]`` for a scalar.

    Raises:
        TypeError: If ``event_shape`` is not an int or a sequence of ints.
        ValueError: If a dimension of ``event_shape`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import IndependentLogistic
        >>> IndependentLogistic.params_size([3, 8, 8])
        384
        >>> d = IndependentLogistic([3, 8, 8])(torch.randn(4, 6, 8, 8))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([3, 8, 8]))
        >>> d.log_prob(d.sample()).shape
        torch.Size([4])

        Flat and channel-first, parameter-major: numbers ``0 .. prod(E) - 1`` are the
        locations, the rest the raw scales; as ``[*batch, 2 * C, H, W]`` the first ``C``
        channels are the locations.

        >>> flat = torch.arange(8.0).unsqueeze(0)
        >>> layer = IndependentLogistic([1, 2, 2])
        >>> layer(flat).mean
        tensor([[[[0., 1.],
                  [2., 3.]]]])
        >>> torch.equal(layer(flat.reshape(1, 2, 2, 2)).mean, layer(flat).mean)
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
            ``Independent(Logistic)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        p = reshape_params(params, self.event_shape, 2, describe(self))
        n = len(self.event_shape)
        loc, scale = loc_and_scale(p, n)
        return independent(Logistic(loc, scale), n)

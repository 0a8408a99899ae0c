"""IndependentBernoulli layer: one Bernoulli logit per event element."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import Bernoulli
from pygen.layers._params import (
    as_event_shape,
    describe,
    independent,
    parameter,
    params_size_method,
    reshape_params,
)

__all__ = ["IndependentBernoulli"]


class IndependentBernoulli(nn.Module):
    """Turn logits into independent Bernoulli variables of shape ``event_shape``.

    Parameter transform: none; each parameter is the logit of one event element
    (``probs = sigmoid(params)``). ``params_size(event_shape)`` is ``prod(event_shape)``.

    Parameter layout: ``params`` is either flat, ``[*batch, prod(event_shape)]``, or
    channel-first, ``[*batch, *event_shape]`` (the output of a convolution for
    ``event_shape=[C, H, W]``; the original pygen's form), one logit per element either
    way.
    Any other shape raises ``ValueError`` naming both accepted shapes.

    Returns ``Independent(Bernoulli(logits), len(event_shape))``: ``batch_shape == batch``,
    ``event_shape == event_shape``. Values must be exactly 0 or 1 (torch validates the
    support): binarize grey-level pixels first, e.g. ``(x > 0.5).float()``.

    Args:
        event_shape: Shape of one event, e.g. ``[1, 28, 28]`` for a binary MNIST image.

    Raises:
        TypeError: If ``event_shape`` is not an int or a sequence of ints.
        ValueError: If a dimension of ``event_shape`` is not positive.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import IndependentBernoulli
        >>> IndependentBernoulli.params_size([1, 28, 28])
        784
        >>> model = nn.Sequential(nn.Conv2d(8, 1, 3, padding=1), IndependentBernoulli([1, 28, 28]))
        >>> d = model(torch.randn(4, 8, 28, 28))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([1, 28, 28]))
        >>> d.log_prob(d.sample()).shape
        torch.Size([4])

        Flat ``[*batch, prod(E)]`` and channel-first ``[*batch, *E]`` are the same
        logits, one per element in ``C, H, W`` order.

        >>> layer = IndependentBernoulli([1, 2, 2])
        >>> layer.params_size()
        4
        >>> flat = torch.tensor([[-9.0, 9.0, 9.0, -9.0]])
        >>> layer(flat).mode
        tensor([[[[0., 1.],
                  [1., 0.]]]])
        >>> torch.equal(layer(flat.reshape(1, 1, 2, 2)).mode, layer(flat).mode)
        True
    """

    def __init__(self, event_shape: int | Sequence[int]) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)

    @params_size_method
    def params_size(event_shape: int | Sequence[int]) -> int:
        """Number of parameters the layer reads: ``prod(event_shape)``.

        Args:
            event_shape: Shape of one event.

        Returns:
            The size of the flat parameter vector.
        """
        return as_event_shape(event_shape).numel()

    def extra_repr(self) -> str:
        return f"event_shape={list(self.event_shape)}"

    def forward(self, params: torch.Tensor) -> Distribution:
        """Build the distribution.

        Args:
            params: Logits, ``[*batch, prod(event_shape)]`` or ``[*batch, *event_shape]``.

        Returns:
            ``Independent(Bernoulli)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        p = reshape_params(params, self.event_shape, 1, describe(self))
        n = len(self.event_shape)
        return independent(Bernoulli(logits=parameter(p, n, 0)), n)

"""IndependentPoisson layer: one log-rate per event element."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import Poisson
from pygen.layers._params import (
    as_event_shape,
    describe,
    independent,
    parameter,
    params_size_method,
    reshape_params,
)

__all__ = ["IndependentPoisson"]


class IndependentPoisson(nn.Module):
    """Turn log-rates into independent Poisson counts of shape ``event_shape``.

    Parameter transform: ``rate = exp(params)``; each parameter is the log-rate of one
    event element, as in TFP. ``params_size(event_shape)`` is ``prod(event_shape)``.
    ``log_prob`` is computed from the log-rate itself, ``k * log_rate - exp(log_rate) -
    log k!``, so a log-rate beyond ``exp``'s range (about 88 in float32) gives the limit
    ``-inf``, never NaN.

    Parameter layout: flat, ``[*batch, prod(event_shape)]``, or channel-first,
    ``[*batch, *event_shape]``. Any other shape raises ``ValueError``.

    Returns ``Independent(Poisson, len(event_shape))`` (just the ``Poisson`` when
    ``event_shape == []``): ``batch_shape == batch``, ``event_shape == event_shape``;
    values are non-negative integer counts (as floats).

    Args:
        event_shape: Shape of one event; ``[]`` for a scalar.

    Raises:
        TypeError: If ``event_shape`` is not an int or a sequence of ints.
        ValueError: If a dimension of ``event_shape`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import IndependentPoisson
        >>> IndependentPoisson.params_size([2, 3])
        6
        >>> d = IndependentPoisson([2, 3])(torch.zeros(4, 6))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([2, 3]))
        >>> d.mean[0]
        tensor([[1., 1., 1.],
                [1., 1., 1.]])

        Flat ``[*batch, prod(E)]`` and channel-first ``[*batch, *E]`` are the same
        log-rates, one per element in ``C, H, W`` order.

        >>> log_rate = torch.log(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
        >>> IndependentPoisson([1, 2, 2])(log_rate.reshape(1, 1, 2, 2)).mean
        tensor([[[[1., 2.],
                  [3., 4.]]]])
    """

    def __init__(self, event_shape: int | Sequence[int] = ()) -> None:
        super().__init__()
        self.event_shape = as_event_shape(event_shape)

    @params_size_method
    def params_size(event_shape: int | Sequence[int] = ()) -> int:
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
            params: Log-rates, flat or channel-first.

        Returns:
            ``Independent(Poisson)`` with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If ``params`` has neither accepted shape.
        """
        p = reshape_params(params, self.event_shape, 1, describe(self))
        n = len(self.event_shape)
        return independent(Poisson(parameter(p, n, 0)), n)

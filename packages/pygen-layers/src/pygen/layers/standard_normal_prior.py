"""StandardNormalPrior: a fixed standard normal over a weight tensor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.layers._checked import Normal
from pygen.layers._params import as_event_shape, independent

__all__ = ["StandardNormalPrior"]


class StandardNormalPrior(nn.Module):
    """The fixed prior ``p(w) = prod_i Normal(w_i; 0, 1)`` (TFP's default prior).

    Holds its zeros and ones as buffers, so it follows ``.to(device)`` and
    ``.double()``; it has no parameters (and nothing in ``state_dict``). ``forward``
    ignores its inputs and returns ``Independent(Normal(0, 1), len(shape))``:
    ``batch_shape == []``, ``event_shape == shape``.

    Args:
        shape: Shape of the weight tensor.

    Raises:
        TypeError: If ``shape`` is not an int or a sequence of ints.

    Example:
        >>> from pygen.layers import StandardNormalPrior
        >>> p = StandardNormalPrior([4])()
        >>> p.event_shape, p.mean.tolist(), p.stddev.tolist()
        (torch.Size([4]), [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0])
    """

    def __init__(self, shape: int | Sequence[int]) -> None:
        super().__init__()
        self.shape = as_event_shape(shape, "shape")
        self.register_buffer("loc", torch.zeros(self.shape), persistent=False)
        self.register_buffer("scale", torch.ones(self.shape), persistent=False)

    def extra_repr(self) -> str:
        return f"shape={list(self.shape)}"

    def forward(self, *inputs: Any) -> Distribution:
        """The prior over the weights; ``inputs`` are ignored.

        Returns:
            ``Independent(Normal(0, 1), len(shape))``.
        """
        return independent(Normal(self.loc, self.scale), len(self.shape))

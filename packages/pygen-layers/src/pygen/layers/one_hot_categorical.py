"""OneHotCategorical layer: logits in, a one-hot categorical distribution out."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import OneHotCategorical as TorchOneHotCategorical

from pygen.layers._checked import OneHotCategorical as CheckedOneHotCategorical
from pygen.layers._params import (
    check_last_dim,
    check_positive_int,
    describe,
    params_size_method,
)

__all__ = ["OneHotCategorical"]


class OneHotCategorical(nn.Module):
    """Turn logits ``[*batch, event_size]`` into a one-hot categorical distribution.

    Parameter transform: none; the parameters are the logits of the ``event_size``
    categories. ``params_size(event_size)`` is ``event_size``.

    Returns ``torch.distributions.OneHotCategorical(logits=params)``:
    ``batch_shape == batch``, ``event_shape == [event_size]``; values are one-hot vectors.

    Args:
        event_size: Number of categories (length of each one-hot vector).

    Raises:
        TypeError: If ``event_size`` is not an int.
        ValueError: If ``event_size`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import OneHotCategorical
        >>> d = OneHotCategorical(3)(torch.zeros(4, 3))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([3]))
        >>> d.sample().sum(-1)
        tensor([1., 1., 1., 1.])
    """

    def __init__(self, event_size: int) -> None:
        super().__init__()
        self.event_size = check_positive_int(event_size, "event_size")

    @params_size_method
    def params_size(event_size: int) -> int:
        """Number of parameters the layer reads: ``event_size``.

        Args:
            event_size: Number of categories.

        Returns:
            ``event_size``.
        """
        return check_positive_int(event_size, "event_size")

    def extra_repr(self) -> str:
        return f"event_size={self.event_size}"

    def forward(self, params: torch.Tensor) -> TorchOneHotCategorical:
        """Build the distribution.

        Args:
            params: Logits, ``[*batch, event_size]``.

        Returns:
            A one-hot categorical distribution with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If the last dimension of ``params`` is not ``event_size``.
        """
        logits = check_last_dim(params, self.event_size, describe(self))
        return CheckedOneHotCategorical(logits=logits)

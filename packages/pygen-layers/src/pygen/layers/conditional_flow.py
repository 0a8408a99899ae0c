"""ConditionalFlow layer: an input tensor in, a normalizing flow conditioned on it out."""

from __future__ import annotations

import torch
from torch import nn

from pygen.distributions import Flow, FlowDistribution
from pygen.layers._params import check_last_dim, params_size_method

__all__ = ["ConditionalFlow"]


class ConditionalFlow(nn.Module):
    """Map a conditioning tensor to a flow distribution ``p(y | condition)``.

    The flow layer of pygen, as zuko's ``flow(c)`` and TFP's ``AutoregressiveTransform``:
    it wraps a :class:`pygen.distributions.Flow` built with ``condition_size=D`` (``MAF``,
    ``IAF``, ``RealNVP``, ``NSF`` or your own) and returns, for ``condition [*batch, D]``,
    a ``torch.distributions.TransformedDistribution`` with ``batch_shape == batch`` and
    the flow's ``event_shape``; it has ``log_prob``, ``sample`` and ``rsample``. Put a
    network in front (``nn.Sequential(net, ConditionalFlow(flow))``) and train both with
    ``LayerTrainer``, which maximises ``layer(x).log_prob(y)``.

    Parameter transform: none; the parameters are the conditions. ``params_size(flow)``
    is ``flow.condition_size``.

    Args:
        flow: A conditional flow; it is registered as a submodule, so its parameters train.

    Raises:
        TypeError: If ``flow`` is not a ``Flow``.
        ValueError: If ``flow`` was built without ``condition_size``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.distributions import MAF
        >>> from pygen.layers import ConditionalFlow
        >>> layer = nn.Sequential(
        ...     nn.Linear(3, 8), ConditionalFlow(MAF(2, 2, [16], condition_size=8))
        ... )
        >>> d = layer(torch.randn(5, 3))
        >>> d.batch_shape, d.event_shape
        (torch.Size([5]), torch.Size([2]))
        >>> d.log_prob(d.rsample()).shape
        torch.Size([5])
    """

    def __init__(self, flow: Flow) -> None:
        super().__init__()
        if not isinstance(flow, Flow):
            raise TypeError(f"flow must be a pygen.distributions.Flow, got {type(flow).__name__}")
        self.flow = flow
        self.params_size(flow)

    @params_size_method
    def params_size(flow: Flow) -> int:
        """Number of values in one condition: ``flow.condition_size``.

        Args:
            flow: A conditional flow.

        Returns:
            ``flow.condition_size``.

        Raises:
            ValueError: If the flow takes no condition.
        """
        if flow.condition_size is None:
            raise ValueError(
                f"flow must be built with condition_size (a conditional flow), got "
                f"{type(flow).__name__} with condition_size=None"
            )
        return int(flow.condition_size)

    def extra_repr(self) -> str:
        return f"condition_size={self.flow.condition_size}"

    def forward(self, condition: torch.Tensor) -> FlowDistribution:
        """The flow conditioned on ``condition [*batch, condition_size]``.

        Raises:
            TypeError: If ``condition`` is not a floating-point tensor.
            ValueError: If its last dim is not ``condition_size``.
        """
        layer = f"{type(self).__name__}({self.extra_repr()})"
        condition = check_last_dim(condition, int(self.flow.condition_size), layer)
        return self.flow(condition)

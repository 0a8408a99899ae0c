"""DistributionLambda layer: wrap any callable that makes a distribution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn
from torch.distributions import Distribution

__all__ = ["DistributionLambda"]


class DistributionLambda(nn.Module):
    """A layer whose ``forward`` calls ``make_distribution_fn`` on its inputs.

    Parameter transforms: whatever ``make_distribution_fn`` applies; the layer adds none,
    and so has no ``params_size`` (the callable decides how many parameters it reads).
    ``batch_shape``/``event_shape`` are those of the distribution the callable returns.
    The result is checked to be a distribution (an object with ``log_prob``), so a
    mistake surfaces here rather than in the training loop. It is returned as it is: the
    trailing-1 guard of the other layers (a value ``[N, 1]`` against a batch of ``[N]``)
    is the callable's to add, for example by returning a ``pygen.layers`` layer's output.

    Args:
        make_distribution_fn: Callable mapping the layer's inputs to a distribution, e.g.
            ``lambda t: torch.distributions.Normal(t[..., 0], t[..., 1].exp())``. An
            ``nn.Module`` is registered as a submodule, so its parameters train.

    Raises:
        TypeError: If ``make_distribution_fn`` is not callable.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import DistributionLambda
        >>> layer = DistributionLambda(
        ...     lambda t: torch.distributions.Normal(t[..., 0], t[..., 1].exp())
        ... )
        >>> d = nn.Sequential(nn.Linear(3, 2), layer)(torch.randn(4, 3))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([]))
    """

    def __init__(self, make_distribution_fn: Callable[..., Distribution]) -> None:
        super().__init__()
        if not callable(make_distribution_fn):
            raise TypeError(
                f"make_distribution_fn must be callable, got {type(make_distribution_fn).__name__}"
            )
        self.make_distribution_fn = make_distribution_fn

    def extra_repr(self) -> str:
        fn = self.make_distribution_fn
        return f"make_distribution_fn={getattr(fn, '__qualname__', type(fn).__name__)}"

    def forward(self, *args: Any, **kwargs: Any) -> Distribution:
        """Call ``make_distribution_fn(*args, **kwargs)`` and check the result.

        Args:
            *args: Passed on to ``make_distribution_fn``.
            **kwargs: Passed on to ``make_distribution_fn``.

        Returns:
            The distribution ``make_distribution_fn`` returned.

        Raises:
            TypeError: If the callable returned something without a callable ``log_prob``.
        """
        result = self.make_distribution_fn(*args, **kwargs)
        if not callable(getattr(result, "log_prob", None)):
            raise TypeError(
                f"{type(self).__name__}: make_distribution_fn must return a distribution "
                f"(an object with log_prob), got {type(result).__name__}"
            )
        return result

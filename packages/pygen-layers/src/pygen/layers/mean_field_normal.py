"""MeanFieldNormal: a trainable fully factorised normal over a weight tensor."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.distributions import Distribution
from torch.nn import functional

from pygen.layers._checked import Normal
from pygen.layers._params import as_event_shape, independent

__all__ = ["MeanFieldNormal"]


class MeanFieldNormal(nn.Module):
    """A trainable mean-field normal ``q(w) = prod_i Normal(w_i; loc_i, scale_i)``.

    The default posterior of the variational layers (TFP's
    ``default_mean_field_normal_fn``). Parameter transforms: ``loc`` as it is,
    ``scale = min_scale + softplus(untransformed_scale)``. ``forward`` ignores its
    inputs (a variational layer may call it with the layer's input) and returns
    ``Independent(Normal(loc, scale), len(shape))``: ``batch_shape == []``,
    ``event_shape == shape``.

    Args:
        shape: Shape of the weight tensor.
        loc_init_std: ``loc`` starts as ``Normal(0, loc_init_std)`` draws.
        scale_init: ``scale`` starts at this value (``untransformed_scale`` at its
            softplus inverse, less ``min_scale``).
        min_scale: Lower bound added to the scale, so it never reaches 0.

    Raises:
        TypeError: If ``shape`` is not an int or a sequence of ints.
        ValueError: If ``scale_init <= min_scale``, ``min_scale < 0`` or
            ``loc_init_std < 0``.

    Example:
        >>> import torch
        >>> from pygen.layers import MeanFieldNormal
        >>> q = MeanFieldNormal([3, 2], scale_init=0.05)
        >>> d = q()
        >>> d.batch_shape, d.event_shape, d.rsample().shape
        (torch.Size([]), torch.Size([3, 2]), torch.Size([3, 2]))
        >>> round(d.base_dist.scale[0, 0].item(), 4)
        0.05
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        loc_init_std: float = 0.1,
        scale_init: float = 0.05,
        min_scale: float = 1e-5,
    ) -> None:
        super().__init__()
        self.shape = as_event_shape(shape, "shape")
        if not min_scale >= 0:
            raise ValueError(f"MeanFieldNormal: min_scale must be >= 0, got {min_scale}")
        if not scale_init > min_scale:
            raise ValueError(
                f"MeanFieldNormal: scale_init must be > min_scale ({min_scale}), got {scale_init}"
            )
        if not loc_init_std >= 0:
            raise ValueError(f"MeanFieldNormal: loc_init_std must be >= 0, got {loc_init_std}")
        self.min_scale = float(min_scale)
        self.loc = nn.Parameter(torch.randn(self.shape) * loc_init_std)
        raw = math.log(math.expm1(scale_init - min_scale))
        self.untransformed_scale = nn.Parameter(torch.full(self.shape, raw))

    def extra_repr(self) -> str:
        return f"shape={list(self.shape)}"

    @property
    def scale(self) -> torch.Tensor:
        """``min_scale + softplus(untransformed_scale)``, shape ``shape``."""
        return self.min_scale + functional.softplus(self.untransformed_scale)

    def forward(self, *inputs: Any) -> Distribution:
        """The distribution over the weights; ``inputs`` are ignored.

        Returns:
            ``Independent(Normal(loc, scale), len(shape))``.
        """
        return independent(Normal(self.loc, self.scale), len(self.shape))

r"""Variational dequantization (Ho et al. 2019, Flow++): a learned noise distribution.

Instead of uniform noise, ``u = sigmoid(e)`` with ``e`` drawn from a conditional
:class:`~pygen.distributions.Glow` given the image ``x``, so ``u`` lies in ``(0, 1)^D``
with density ``q(u | x)``. With ``y = (k + u) / K``

.. math:: \log P(x) \ge \mathbb{E}_{q}[\log p(y) - \log q(u | x)] - D \log K,

still a lower bound on the discrete log-likelihood (an ELBO), tighter than uniform
dequantization as ``q`` learns to follow ``p`` inside each bin. Trained jointly with
the model (its parameters sit inside :class:`~pygen.distributions.Dequantized`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pygen.distributions._dequantization_grid import grid_indices
from pygen.distributions._image_flow import check_image_shape
from pygen.distributions._validation import check_count
from pygen.distributions.act_norm import ActNorm
from pygen.distributions.glow import Glow

__all__ = ["VariationalDequantization"]


class VariationalDequantization(nn.Module):
    """Learned dequantization noise: a conditional Glow given the image, squashed into (0, 1).

    ``u = sigmoid(e)`` with ``e ~ Glow(e | x)``; the module returns ``y = (k + u) / K`` and
    ``log q(y | x)``.

    Args:
        event_shape: ``[C, H, W]`` of the images.
        num_bins: ``K`` (256 for 8-bit pixels).
        num_levels: Squeeze levels of the noise flow.
        num_steps: Steps per level of the noise flow.
        hidden_channels: Width of the noise flow's coupling networks.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a value is out of range or the shapes do not fit.

    Example:
        >>> import torch
        >>> from pygen.distributions import VariationalDequantization
        >>> _ = torch.manual_seed(0)
        >>> dequantize = VariationalDequantization([1, 4, 4], num_bins=256, num_steps=1)
        >>> x = torch.randint(0, 256, (3, 1, 4, 4)) / 255
        >>> y, log_q = dequantize(x)
        >>> bool(((y * 256).floor() == x * 255).all()), log_q.shape
        (True, torch.Size([3]))
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        num_bins: int = 256,
        *,
        num_levels: int = 1,
        num_steps: int = 2,
        hidden_channels: int = 32,
    ) -> None:
        super().__init__()
        self.event_shape = check_image_shape(type(self).__name__, "event_shape", event_shape)
        self.num_bins = check_count("num_bins", num_bins, 2)
        self.noise = Glow(
            self.event_shape,
            num_levels=num_levels,
            num_steps=num_steps,
            hidden_channels=hidden_channels,
            condition_shape=self.event_shape,
        )
        # The noise flow only runs latent to data, so there is no data to initialise its
        # ActNorms from: they start as the identity, marked initialised, so that a later
        # log_prob of the noise flow does not re-initialise them.
        for module in self.noise.modules():
            if isinstance(module, ActNorm):
                module.initialized.fill_(True)

    def extra_repr(self) -> str:
        return f"event_shape={list(self.event_shape)}, num_bins={self.num_bins}"

    def forward(
        self, x: Tensor, event_ndims: int = 3, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Dequantize ``x`` (``[..., C, H, W]``): ``(y, log q(y | x))`` per image.

        Args:
            x: Data on the grid ``k / (num_bins - 1)``.
            event_ndims: Must be 3 (the noise flow is over ``[C, H, W]``).
            generator: Draws the noise flow's latent.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x`` is off the grid, non-finite, or misshapen.
        """
        if event_ndims != 3:
            raise ValueError(
                f"{type(self).__name__}: event_ndims: expected 3 ([C, H, W]), found {event_ndims}"
            )
        levels = grid_indices(type(self).__name__, x, self.num_bins)
        if tuple(x.shape[-3:]) != tuple(self.event_shape):
            raise ValueError(
                f"{type(self).__name__}: x: expected a shape ending in event_shape "
                f"{tuple(self.event_shape)}, found shape {tuple(x.shape)}"
            )
        e, log_e = self.noise.rsample_and_log_prob((), condition=x - 0.5, generator=generator)
        u = torch.sigmoid(e)
        # log q(u) = log q(e) - log|du/de|, du/de = sigmoid(e) sigmoid(-e)
        log_jacobian = (F.logsigmoid(e) + F.logsigmoid(-e)).flatten(-3).sum(-1)
        numel = self.event_shape.numel()
        y = (levels + u) / self.num_bins
        return y, log_e - log_jacobian + numel * math.log(self.num_bins)

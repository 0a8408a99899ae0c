"""The parts of a Glow step that are not public transforms (private).

:class:`AffineCoupling` is Glow's channel-split affine coupling (Dinh et al. 2017;
Kingma and Dhariwal 2018, section 3.3) with a small convolutional network; an optional
condition map is concatenated to the network's input. :class:`FlowStep` is one step of
Glow: ActNorm, invertible 1x1 convolution, affine coupling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pygen.distributions.act_norm import ActNorm
from pygen.distributions.invertible_conv1x1 import InvertibleConv1x1

__all__ = ["AffineCoupling", "FlowStep"]


class AffineCoupling(nn.Module):
    """``z_b = (x_b + shift(x_a, c)) * sigmoid(raw(x_a, c) + 2)``, ``z_a = x_a``.

    ``x_a`` is the first ``C // 2`` channels, ``x_b`` the rest. The network's last
    convolution starts at zero, so a new coupling is the identity up to the scale
    ``sigmoid(2)``.
    """

    def __init__(self, num_channels: int, hidden_channels: int, condition_channels: int = 0):
        super().__init__()
        if num_channels < 2:
            raise ValueError(
                f"AffineCoupling: expected at least 2 channels to split, found {num_channels}"
            )
        self.num_channels = num_channels
        self.condition_channels = condition_channels
        self.split = num_channels // 2
        inputs = self.split + condition_channels
        outputs = 2 * (num_channels - self.split)
        self.net = nn.Sequential(
            nn.Conv2d(inputs, hidden_channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_channels, hidden_channels, 1),
            nn.ReLU(),
            nn.Conv2d(hidden_channels, outputs, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def _params(self, x_a: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        """``(shift, log_scale)`` from ``x_a [N, Ca, H, W]`` and the condition map."""
        if self.condition_channels:
            if condition is None:
                raise ValueError("AffineCoupling: built with a condition; found None")
            x_a = torch.cat([x_a, condition], dim=1)
        elif condition is not None:
            raise ValueError("AffineCoupling: built without a condition; found one")
        shift, raw = self.net(x_a).chunk(2, dim=1)
        return shift, F.logsigmoid(raw + 2.0)

    def normalize(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Data to latent on ``[N, C, H, W]``: ``(z, log|det dz/dx|)`` of shape ``[N]``."""
        x_a, x_b = x[:, : self.split], x[:, self.split :]
        shift, log_scale = self._params(x_a, condition)
        z_b = (x_b + shift) * torch.exp(log_scale)
        return torch.cat([x_a, z_b], dim=1), log_scale.flatten(1).sum(1)

    def generate(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Latent to data on ``[N, C, H, W]``: ``(x, log|det dx/dz|)``."""
        z_a, z_b = z[:, : self.split], z[:, self.split :]
        shift, log_scale = self._params(z_a, condition)
        x_b = z_b * torch.exp(-log_scale) - shift
        return torch.cat([z_a, x_b], dim=1), -log_scale.flatten(1).sum(1)


class FlowStep(nn.Module):
    """ActNorm, then an invertible 1x1 convolution, then an affine coupling ``[N, C, H, W]``."""

    def __init__(
        self,
        num_channels: int,
        hidden_channels: int,
        condition_channels: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.norm = ActNorm(num_channels)
        self.conv = InvertibleConv1x1(num_channels, generator=generator)
        self.coupling = AffineCoupling(num_channels, hidden_channels, condition_channels)

    def normalize(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Data to latent: ``(z, log|det dz/dx|)``."""
        x, total = self.norm.normalize(x)
        x, log_det = self.conv.normalize(x)
        total = total + log_det
        x, log_det = self.coupling.normalize(x, condition)
        return x, total + log_det

    def generate(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Latent to data: ``(x, log|det dx/dz|)``."""
        z, total = self.coupling.generate(z, condition)
        z, log_det = self.conv.generate(z)
        total = total + log_det
        z, log_det = self.norm.generate(z)
        return z, total + log_det

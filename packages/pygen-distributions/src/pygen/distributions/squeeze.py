"""Squeeze: trade space for channels, ``[C, H, W] -> [4C, H/2, W/2]`` (RealNVP, Glow).

Dinh, Sohl-Dickstein and Bengio (2017, "Density estimation using Real NVP"), section
3.6: each 2x2 block of pixels becomes four channels, so a later channel-wise map mixes
neighbouring pixels. A permutation of the values: volume-preserving, ``log|det| = 0``.
Output channel ``4c + 2i + j`` holds input channel ``c`` at offset ``(i, j)`` of the block.
"""

from __future__ import annotations

import torch
from torch import Tensor

from pygen.distributions._flow_base import FlowTransform
from pygen.distributions._image_flow import check_image, no_condition

__all__ = ["Squeeze"]


class Squeeze(FlowTransform):
    """``normalize``: ``[..., C, H, W] -> [..., 4C, H/2, W/2]``; ``generate`` undoes it.

    ``H`` and ``W`` must be even. As a ``torch.distributions.Transform`` (a
    :class:`~pygen.distributions.FlowTransform`, latent to data like every flow
    transform), ``Squeeze()(z)`` is :meth:`generate`, ``[4C, H/2, W/2] -> [C, H, W]``, and
    ``.inv`` squeezes.

    Example:
        >>> import torch
        >>> from pygen.distributions import Squeeze
        >>> x = torch.arange(16.0).reshape(1, 4, 4)
        >>> z, log_det = Squeeze().normalize(x)
        >>> z.shape, z[:, 0, 0].tolist(), float(log_det)
        (torch.Size([4, 2, 2]), [0.0, 1.0, 4.0, 5.0], 0.0)
        >>> torch.equal(Squeeze().generate(z)[0], x)
        True
    """

    def __init__(self) -> None:
        super().__init__(event_dim=3)

    def normalize(self, x: Tensor, condition: None = None) -> tuple[Tensor, Tensor]:
        """``(squeeze(x), 0)``: data to latent, with a zero log-determinant per image."""
        no_condition(self, condition)
        z = squeeze(x)
        return z, z.new_zeros(z.shape[:-3])

    def generate(self, z: Tensor, condition: None = None) -> tuple[Tensor, Tensor]:
        """``(unsqueeze(z), 0)``: latent to data."""
        no_condition(self, condition)
        x = unsqueeze(z)
        return x, x.new_zeros(x.shape[:-3])

    def inverse_shape(self, shape: torch.Size) -> torch.Size:
        """The shape :meth:`normalize` (the inverse, data to latent) returns for ``shape``."""
        *batch, c, h, w = shape
        return torch.Size([*batch, 4 * c, h // 2, w // 2])

    def forward_shape(self, shape: torch.Size) -> torch.Size:
        """The shape :meth:`generate` (the forward map, latent to data) returns for ``shape``."""
        *batch, c, h, w = shape
        return torch.Size([*batch, c // 4, 2 * h, 2 * w])

    # The FlowTransform hooks: forward is latent to data (generate), as in torch.
    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        return self.generate(x, condition)

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        z, log_det = self.normalize(y, condition)
        return z, -log_det


def squeeze(x: Tensor) -> Tensor:
    """``[..., C, H, W] -> [..., 4C, H/2, W/2]``.

    Raises:
        ValueError: If ``H`` or ``W`` is odd, or ``x`` is not ``[..., C, H, W]``.
    """
    x = check_image("Squeeze", "x", x) if x.is_floating_point() else x
    *batch, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(
            f"Squeeze: x: expected even height and width, found shape {tuple(x.shape)}"
        )
    x = x.reshape(*batch, c, h // 2, 2, w // 2, 2)
    n = len(batch)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*batch, 4 * c, h // 2, w // 2)


def unsqueeze(z: Tensor) -> Tensor:
    """``[..., 4C, H, W] -> [..., C, 2H, 2W]``, the inverse of :func:`squeeze`.

    Raises:
        ValueError: If the channel count is not a multiple of 4.
    """
    z = check_image("Squeeze", "z", z) if z.is_floating_point() else z
    *batch, c4, h, w = z.shape
    if c4 % 4:
        raise ValueError(
            f"Squeeze: z: expected a channel count divisible by 4, found shape {tuple(z.shape)}"
        )
    c = c4 // 4
    n = len(batch)
    z = z.reshape(*batch, c, 2, 2, h, w)
    z = z.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return z.reshape(*batch, c, 2 * h, 2 * w)

"""Conv2dFlipout: a 2-D convolution with Flipout kernel perturbations (Wen et al., 2018)."""

from __future__ import annotations

import torch

from pygen.layers._variational import rademacher
from pygen.layers.conv2d_reparameterization import Conv2dReparameterization

__all__ = ["Conv2dFlipout"]


class Conv2dFlipout(Conv2dReparameterization):
    """A variational convolution whose examples see decorrelated kernel draws.

    One perturbation ``D = W - E[W]``, ``W ~ q``, is drawn per call; the output is
    ``conv(x, E[W]) + conv(x * r, D) * s + b`` with independent random signs per
    example and channel, ``r`` of shape ``[batch, in_channels, 1, 1]`` and ``s`` of
    ``[batch, out_channels, 1, 1]`` (TFP's ``Convolution2DFlipout``). For a symmetric
    perturbation (any Normal posterior) the expected output is that of
    :class:`Conv2dReparameterization`, with a lower gradient variance. Arguments, KL
    and errors are those of :class:`Conv2dReparameterization`.

    Example:
        >>> import torch
        >>> from pygen.layers import Conv2dFlipout
        >>> layer = Conv2dFlipout(2, 3, kernel_size=3)
        >>> layer(torch.randn(4, 2, 6, 6)).shape
        torch.Size([4, 3, 4, 4])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``conv(x, E[W]) + conv(x * r, D) * s + b`` with fresh ``D`` and signs.

        Args:
            x: Input of shape ``[batch, in_channels, H, W]``.

        Returns:
            Output of shape ``[batch, out_channels, H', W']``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x`` is not 4-D with ``in_channels`` channels.
        """
        x = self._checked_input(x)
        q = self._posterior()
        mean = q.mean
        perturbation = q.rsample() - mean
        signs_in = rademacher((x.shape[0], self.in_channels, 1, 1), x)
        signs_out = rademacher((x.shape[0], self.out_channels, 1, 1), x)
        centre = self._conv(x, mean, self.bias)
        return centre + self._conv(x * signs_in, perturbation, None) * signs_out

r"""The invertible 1x1 convolution of Glow, LU-parameterised.

Kingma and Dhariwal (2018), section 3.2: every pixel's channel vector is multiplied by
one invertible ``C x C`` matrix ``W``. With ``W = P L (U + \mathrm{diag}(s))``, ``P`` a
fixed permutation, ``L`` unit lower triangular and ``U`` strictly upper triangular,

.. math:: \log\left|\det \frac{\partial z}{\partial x}\right| = HW \sum_c \log|s_c|,

an ``O(C)`` log-determinant instead of ``O(C^3)``. ``W`` starts as a random rotation
(``|det W| = 1``); ``log|s|`` and the signs of ``s`` are stored apart, so ``W`` stays
invertible whatever the optimiser does to the parameters.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pygen.distributions._flow_base import FlowTransform
from pygen.distributions._image_flow import check_image, no_condition
from pygen.distributions._validation import check_count

__all__ = ["InvertibleConv1x1"]


class InvertibleConv1x1(FlowTransform):
    """``z[..., :, h, w] = W @ x[..., :, h, w]`` with ``W = P L (U + diag(sign * exp(log_abs_s)))``.

    A :class:`~pygen.distributions.FlowTransform`: ``t(z)`` is :meth:`generate` (latent to
    data), ``t.inv(x)`` is :meth:`normalize`.

    Args:
        num_channels: ``C``.
        generator: Draws the initial random rotation (default: torch's global one).

    Raises:
        TypeError: If ``num_channels`` is not an int.
        ValueError: If ``num_channels < 1``.

    Example:
        >>> import torch
        >>> from pygen.distributions import InvertibleConv1x1
        >>> conv = InvertibleConv1x1(4, generator=torch.Generator().manual_seed(0))
        >>> x = torch.randn(2, 4, 3, 3)
        >>> z, log_det = conv.normalize(x)
        >>> expected = 9 * torch.linalg.slogdet(conv.weight())[1]  # 9 pixels
        >>> log_det.shape, torch.allclose(log_det, expected, atol=1e-5)
        (torch.Size([2]), True)
        >>> torch.allclose(conv.generate(z)[0], x, atol=1e-5)
        True
    """

    permutation: Tensor
    sign_s: Tensor
    lower_mask: Tensor

    def __init__(self, num_channels: int, *, generator: torch.Generator | None = None) -> None:
        super().__init__(event_dim=3)
        self.num_channels = c = check_count("num_channels", num_channels, 1)
        rotation, _ = torch.linalg.qr(torch.randn(c, c, generator=generator, dtype=torch.float64))
        permutation, lower, upper = torch.linalg.lu(rotation)
        s = torch.diagonal(upper)
        dtype = torch.get_default_dtype()
        self.register_buffer("permutation", permutation.to(dtype))
        self.register_buffer("sign_s", torch.sign(s).to(dtype))
        self.register_buffer("lower_mask", torch.tril(torch.ones(c, c, dtype=dtype), -1))
        self.lower = nn.Parameter(lower.to(dtype))
        self.upper = nn.Parameter(torch.triu(upper, 1).to(dtype))
        self.log_abs_s = nn.Parameter(torch.log(s.abs()).to(dtype))

    def extra_repr(self) -> str:
        return f"{self.num_channels}"

    def weight(self) -> Tensor:
        """The matrix ``W`` (``C x C``) of the normalising direction."""
        eye = torch.eye(self.num_channels, dtype=self.lower.dtype, device=self.lower.device)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_abs_s))
        return self.permutation @ lower @ upper

    def _check(self, name: str, x: object) -> Tensor:
        x = check_image(type(self).__name__, name, x)
        if x.shape[-3] != self.num_channels:
            raise ValueError(
                f"{type(self).__name__}: {name}: expected {self.num_channels} channels "
                f"(shape [..., {self.num_channels}, H, W]), found shape {tuple(x.shape)}"
            )
        return x

    def _log_det(self, x: Tensor, sign: float) -> Tensor:
        height, width = x.shape[-2:]
        return (sign * height * width * self.log_abs_s.sum()).expand(x.shape[:-3])

    def normalize(self, x: Tensor, condition: None = None) -> tuple[Tensor, Tensor]:
        """Data to latent: ``(W x, log|det dz/dx|)``, the log-determinant per image."""
        x = self._check("x", x)
        no_condition(self, condition)
        z = torch.einsum("ij,...jhw->...ihw", self.weight(), x)
        return z, self._log_det(x, 1.0)

    def generate(self, z: Tensor, condition: None = None) -> tuple[Tensor, Tensor]:
        """Latent to data: ``(W^{-1} z, log|det dx/dz|)``."""
        z = self._check("z", z)
        no_condition(self, condition)
        x = torch.einsum("ij,...jhw->...ihw", torch.linalg.inv(self.weight()), z)
        return x, self._log_det(z, -1.0)

    # The FlowTransform hooks: forward is latent to data (generate), as in torch.
    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        return self.generate(x, condition)

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        z, log_det = self.normalize(y, condition)
        return z, -log_det

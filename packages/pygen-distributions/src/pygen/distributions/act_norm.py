r"""ActNorm: a per-channel affine map of images with data-dependent initialisation.

Kingma and Dhariwal (2018, "Glow: Generative Flow with Invertible 1x1 Convolutions"),
section 3.1. In the normalising direction (data to latent)

.. math:: z_{c,h,w} = (x_{c,h,w} - \mathrm{loc}_c)\, e^{-\mathrm{log\_scale}_c},
   \qquad \log\left|\det \frac{\partial z}{\partial x}\right| = -HW \sum_c \mathrm{log\_scale}_c.

The first call in the normalising direction on a module not yet initialised sets
``loc`` to each channel's mean over that batch and ``log_scale`` to the log of its
standard deviation, so the outputs on that batch have zero mean and unit variance per
channel. Whether that has happened is the buffer ``initialized``, so it is saved by
``state_dict`` and a resumed run does not initialise again.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pygen.distributions._flow_base import FlowTransform
from pygen.distributions._image_flow import check_image, no_condition
from pygen.distributions._validation import check_count

__all__ = ["ActNorm"]


class ActNorm(FlowTransform):
    """Per-channel ``z = (x - loc) * exp(-log_scale)`` on ``[..., C, H, W]``, initialised from data.

    A bijection of images (batch dims left of ``[C, H, W]`` pass through), and a
    :class:`~pygen.distributions.FlowTransform` (an ``nn.Module`` that is a
    ``torch.distributions.Transform``): ``t(z)`` is :meth:`generate` (latent to data, the
    direction ``TransformedDistribution`` samples in), ``t.inv(x)`` is :meth:`normalize`.

    Args:
        num_channels: ``C``.
        eps: Added to the standard deviation at initialisation (a constant channel
            would otherwise give an infinite scale).

    Raises:
        TypeError: If ``num_channels`` is not an int or ``eps`` not a number.
        ValueError: If ``num_channels < 1`` or ``eps <= 0``.

    Example:
        >>> import torch
        >>> from pygen.distributions import ActNorm
        >>> norm = ActNorm(3)
        >>> x = 5 + 2 * torch.randn(64, 3, 4, 4)
        >>> z, log_det = norm.normalize(x)  # the first call initialises loc and log_scale
        >>> bool(norm.initialized), z.shape, log_det.shape
        (True, torch.Size([64, 3, 4, 4]), torch.Size([64]))
        >>> torch.allclose(z.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
        True
        >>> torch.allclose(norm.generate(z)[0], x, atol=1e-5)
        True
    """

    initialized: Tensor

    def __init__(self, num_channels: int, *, eps: float = 1e-6) -> None:
        super().__init__(event_dim=3)
        self.num_channels = check_count("num_channels", num_channels, 1)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)):
            raise TypeError(f"eps: expected a float, found {type(eps).__name__}")
        if not eps > 0:
            raise ValueError(f"eps: expected a float > 0, found {eps}")
        self.eps = float(eps)
        self.loc = nn.Parameter(torch.zeros(num_channels))
        self.log_scale = nn.Parameter(torch.zeros(num_channels))
        self.register_buffer("initialized", torch.tensor(False))

    def extra_repr(self) -> str:
        return f"{self.num_channels}, initialized={bool(self.initialized)}"

    def _check(self, name: str, x: object) -> Tensor:
        x = check_image(type(self).__name__, name, x)
        if x.shape[-3] != self.num_channels:
            raise ValueError(
                f"{type(self).__name__}: {name}: expected {self.num_channels} channels "
                f"(shape [..., {self.num_channels}, H, W]), found shape {tuple(x.shape)}"
            )
        return x

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Set ``loc`` and ``log_scale`` so that ``normalize(x)`` has zero mean, unit variance.

        Args:
            x: A batch ``[..., C, H, W]`` with at least two values per channel.

        Raises:
            ValueError: If ``x`` has the wrong channel count, non-finite values, or a
                single value per channel.
        """
        x = self._check("x", x)
        values = x.transpose(0, -3).reshape(self.num_channels, -1) if x.dim() > 3 else None
        if values is None:
            values = x.reshape(self.num_channels, -1)
        if values.shape[1] < 2:
            raise ValueError(
                f"ActNorm.initialize: x: expected at least two values per channel, found "
                f"shape {tuple(x.shape)}"
            )
        mean = values.mean(1)
        std = values.std(1, unbiased=False)
        self.loc.copy_(mean.to(self.loc.dtype))
        self.log_scale.copy_(torch.log(std + self.eps).to(self.log_scale.dtype))
        self.initialized.fill_(True)

    def _log_det(self, x: Tensor, sign: float) -> Tensor:
        height, width = x.shape[-2:]
        value = sign * height * width * self.log_scale.sum()
        return value.expand(x.shape[:-3])

    def normalize(self, x: Tensor, condition: None = None) -> tuple[Tensor, Tensor]:
        """Data to latent: ``(z, log|det dz/dx|)``, the log-determinant per image.

        Initialises the module from ``x`` on its first call (see :meth:`initialize`).
        """
        x = self._check("x", x)
        no_condition(self, condition)
        if not bool(self.initialized):
            self.initialize(x)
        shape = (self.num_channels, 1, 1)
        z = (x - self.loc.view(shape)) * torch.exp(-self.log_scale).view(shape)
        return z, self._log_det(x, -1.0)

    def generate(self, z: Tensor, condition: None = None) -> tuple[Tensor, Tensor]:
        """Latent to data: ``(x, log|det dx/dz|)``, the inverse of :meth:`normalize`."""
        z = self._check("z", z)
        no_condition(self, condition)
        shape = (self.num_channels, 1, 1)
        x = z * torch.exp(self.log_scale).view(shape) + self.loc.view(shape)
        return x, self._log_det(z, 1.0)

    # The FlowTransform hooks: forward is latent to data (generate), as in torch.
    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        return self.generate(x, condition)

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        z, log_det = self.normalize(y, condition)
        return z, -log_det

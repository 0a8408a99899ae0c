"""Conv2dReparameterization: a 2-D convolution whose kernel is drawn from its posterior."""

from __future__ import annotations

import torch
from torch.nn import functional
from torch.nn.modules.utils import _pair

from pygen.layers._params import check_positive_int, describe
from pygen.layers._variational import Factory, WeightPosteriorLayer, check_input
from pygen.layers.mean_field_normal import MeanFieldNormal
from pygen.layers.standard_normal_prior import StandardNormalPrior

__all__ = ["Conv2dReparameterization"]

_IntOrPair = int | tuple[int, int]


def _check_pair(name: str, value: object, minimum: int) -> tuple[int, int]:
    pair = _pair(value)
    if len(pair) != 2 or any(
        isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair
    ):
        raise ValueError(f"{name} must be an int or a pair of ints >= {minimum}, got {value!r}")
    return pair  # type: ignore[return-value]


class Conv2dReparameterization(WeightPosteriorLayer):
    """``torch.nn.functional.conv2d`` with one kernel ``W ~ q(W)`` drawn per call.

    Channel-first, as ``torch.nn.Conv2d``: input ``[batch, in_channels, H, W]``, kernel
    ``[out_channels, in_channels // groups, kh, kw]``. The kernel is drawn by the
    reparameterization trick once per call, shared by the batch; the bias is a point
    estimate (TFP's ``Convolution2DReparameterization``). The KL term is
    :meth:`kl_divergence`, collected by :class:`~pygen.layers.VariationalObjective`.

    Args:
        in_channels: Channels of the input.
        out_channels: Channels of the output.
        kernel_size: Kernel height and width (an int for both).
        stride: As ``torch.nn.Conv2d``.
        padding: As ``torch.nn.Conv2d`` (an int or a pair).
        dilation: As ``torch.nn.Conv2d``.
        groups: As ``torch.nn.Conv2d``.
        bias: Whether to add a (point-estimate) bias per output channel.
        make_posterior: ``make_posterior(shape)`` returns a callable whose call with no
            arguments returns a reparameterizable distribution over the kernel.
            Default: :class:`MeanFieldNormal`.
        make_prior: Likewise for the prior. Default: :class:`StandardNormalPrior`.
        kl_weight: The KL's weight in the objective.
        kl_use_exact: Use the analytic KL where torch registers one for the pair.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a size is not positive, the channels do not divide into
            ``groups``, or a factory's distribution is not over the kernel's shape.

    Example:
        >>> import torch
        >>> from pygen.layers import Conv2dReparameterization
        >>> layer = Conv2dReparameterization(1, 4, kernel_size=3, padding=1)
        >>> layer(torch.randn(2, 1, 8, 8)).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _IntOrPair,
        stride: _IntOrPair = 1,
        padding: _IntOrPair = 0,
        dilation: _IntOrPair = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        make_posterior: Factory = MeanFieldNormal,
        make_prior: Factory = StandardNormalPrior,
        kl_weight: float = 1.0,
        kl_use_exact: bool = True,
    ) -> None:
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.groups = check_positive_int(groups, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups, got groups={groups}"
            )
        self.kernel_size = _check_pair("kernel_size", kernel_size, 1)
        self.stride = _check_pair("stride", stride, 1)
        self.padding = _check_pair("padding", padding, 0)
        self.dilation = _check_pair("dilation", dilation, 1)
        super().__init__(
            (out_channels, in_channels // groups, *self.kernel_size),
            out_channels if bias else None,
            make_posterior,
            make_prior,
            kl_weight,
            kl_use_exact,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, groups={self.groups}, "
            f"bias={self.bias is not None}"
        )

    def _checked_input(self, x: object) -> torch.Tensor:
        return check_input(
            describe(self),
            x,
            f"[batch, {self.in_channels}, H, W] (in_channels={self.in_channels})",
            lambda t: t.dim() == 4 and t.shape[1] == self.in_channels,
        )

    def _conv(
        self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        return functional.conv2d(
            x, weight, bias, self.stride, self.padding, self.dilation, self.groups
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution of ``x`` with a fresh kernel ``W ~ q``.

        Args:
            x: Input of shape ``[batch, in_channels, H, W]``.

        Returns:
            Output of shape ``[batch, out_channels, H', W']``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x`` is not 4-D with ``in_channels`` channels.
        """
        x = self._checked_input(x)
        return self._conv(x, self._posterior().rsample(), self.bias)

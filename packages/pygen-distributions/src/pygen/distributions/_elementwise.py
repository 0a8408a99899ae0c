r"""Elementwise monotonic bijections the autoregressive and coupling transforms apply (private).

Each maps a tensor ``x [...]`` with unconstrained parameters ``params [..., P]`` (one set
per element) and returns the image and ``log|dy/dx|`` per element; ``inverse`` returns the
pre-image and the *forward* ``log|dy/dx|`` at it, so both directions give the same number.

- :class:`Affine`: ``y = x * exp(s) + t`` with ``s = b * tanh(raw / b)`` (a soft clamp to
  ``(-b, b)``, ``b = 4``), ``P = 2``; zero parameters give the identity.
- :class:`NormalizingAffine`: the affine map parameterised in the *inverse* direction,
  ``x = y * exp(s) + t`` (so ``y = (x - t) * exp(-s)``), with ``s = raw / (1 + |raw| / b)``
  (``|s| < b = 7``), ``P = 2``; zero parameters give the identity.
- :class:`RationalQuadraticSpline`: the monotonic rational-quadratic spline of Durkan,
  Bekasov, Murray and Papamakarios (2019, "Neural Spline Flows"), ``K`` bins on
  ``[-B, B]`` and the identity outside (linear tails, boundary derivatives 1);
  ``P = 3K - 1`` (``K`` widths, ``K`` heights, ``K - 1`` interior derivatives); zero
  parameters give the identity.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Affine", "Elementwise", "NormalizingAffine", "RationalQuadraticSpline"]


class Elementwise:
    """Interface: ``num_params``, ``forward(x, params)``, ``inverse(y, params)``."""

    num_params: int

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError


class Affine(Elementwise):
    """``y = x * exp(s) + t``; ``params[..., 0] = t``, ``params[..., 1]`` the raw ``s``."""

    num_params = 2

    def __init__(self, log_scale_bound: float = 4.0) -> None:
        self.bound = float(log_scale_bound)

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, raw = params[..., 0], params[..., 1]
        return shift, self.bound * torch.tanh(raw / self.bound)

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._split(params)
        return x * log_scale.exp() + shift, log_scale

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._split(params)
        return (y - shift) * (-log_scale).exp(), log_scale


class NormalizingAffine(Elementwise):
    """``y = (x - t) * exp(-s)``, i.e. ``x = y * exp(s) + t``: the scale and shift act on
    the inverse direction. ``params[..., 0] = t``, ``params[..., 1]`` the raw ``s``.

    For a flow whose ``forward`` generates (noise to data) this puts the parameters on the
    normalising direction (data to noise), where a shift is not multiplied by a scale and
    an unusual input is not amplified by ``exp(-s)`` on its way to the base distribution.
    """

    num_params = 2

    def __init__(self, log_scale_bound: float = 7.0) -> None:
        self.bound = float(log_scale_bound)

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, raw = params[..., 0], params[..., 1]
        return shift, raw / (1.0 + raw.abs() / self.bound)

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._split(params)
        return (x - shift) * (-log_scale).exp(), -log_scale

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._split(params)
        return y * log_scale.exp() + shift, -log_scale


class RationalQuadraticSpline(Elementwise):
    """Monotonic rational-quadratic spline on ``[-bound, bound]``, identity outside.

    Args:
        bins: Number of bins ``K``.
        bound: Half-width ``B`` of the interval.
        min_width: Smallest bin width and height, as a fraction of ``2B``.
        min_derivative: Smallest knot derivative.
    """

    def __init__(
        self,
        bins: int = 8,
        bound: float = 5.0,
        min_width: float = 1e-3,
        min_derivative: float = 1e-3,
    ) -> None:
        self.bins = int(bins)
        self.bound = float(bound)
        self.min_width = float(min_width)
        self.min_derivative = float(min_derivative)
        self.num_params = 3 * self.bins - 1
        # softplus(raw + shift) + min_derivative == 1 at raw == 0: zero params = identity.
        self._derivative_shift = math.log(math.expm1(1.0 - self.min_derivative))

    def _knots(self, params: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        k, b = self.bins, self.bound
        widths = F.softmax(params[..., :k], dim=-1)
        widths = self.min_width + (1 - self.min_width * k) * widths
        heights = F.softmax(params[..., k : 2 * k], dim=-1)
        heights = self.min_width + (1 - self.min_width * k) * heights
        inner = self.min_derivative + F.softplus(params[..., 2 * k :] + self._derivative_shift)
        ones = torch.ones_like(inner[..., :1])
        derivatives = torch.cat([ones, inner, ones], dim=-1)  # [..., K + 1]
        cumwidths = _knot_positions(widths, b)
        cumheights = _knot_positions(heights, b)
        return cumwidths, cumheights, derivatives, widths * 2 * b, heights * 2 * b

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        inside = (x > -self.bound) & (x < self.bound)
        xc = torch.where(inside, x, torch.zeros_like(x))
        cw, ch, d, w, h = self._knots(params)
        idx = _bin(cw, xc, self.bins)
        xk, yk, wk, hk = _pick(cw, idx), _pick(ch, idx), _pick(w, idx), _pick(h, idx)
        dk, dk1 = _pick(d, idx), _pick(d, idx + 1)
        sk = hk / wk
        theta = (xc - xk) / wk
        t1m = theta * (1 - theta)
        denominator = sk + (dk1 + dk - 2 * sk) * t1m
        y = yk + hk * (sk * theta**2 + dk * t1m) / denominator
        numerator = sk**2 * (dk1 * theta**2 + 2 * sk * t1m + dk * (1 - theta) ** 2)
        ladj = numerator.log() - 2 * denominator.log()
        return torch.where(inside, y, x), torch.where(inside, ladj, torch.zeros_like(ladj))

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        inside = (y > -self.bound) & (y < self.bound)
        yc = torch.where(inside, y, torch.zeros_like(y))
        cw, ch, d, w, h = self._knots(params)
        idx = _bin(ch, yc, self.bins)
        xk, yk, wk, hk = _pick(cw, idx), _pick(ch, idx), _pick(w, idx), _pick(h, idx)
        dk, dk1 = _pick(d, idx), _pick(d, idx + 1)
        sk = hk / wk
        dy = yc - yk
        mix = dk1 + dk - 2 * sk
        a = hk * (sk - dk) + dy * mix
        b = hk * dk - dy * mix
        c = -sk * dy
        discriminant = (b**2 - 4 * a * c).clamp_min(0)
        theta = (2 * c) / (-b - discriminant.sqrt())
        x = theta * wk + xk
        t1m = theta * (1 - theta)
        denominator = sk + mix * t1m
        numerator = sk**2 * (dk1 * theta**2 + 2 * sk * t1m + dk * (1 - theta) ** 2)
        ladj = numerator.log() - 2 * denominator.log()
        return torch.where(inside, x, y), torch.where(inside, ladj, torch.zeros_like(ladj))


def _knot_positions(sizes: Tensor, bound: float) -> Tensor:
    """``K`` bin sizes summing to 1 -> ``K + 1`` knots from ``-bound`` to ``bound`` exactly."""
    cumulative = torch.cumsum(sizes, dim=-1)
    inner = 2 * bound * cumulative[..., :-1] - bound
    low = torch.full_like(sizes[..., :1], -bound)
    high = torch.full_like(sizes[..., :1], bound)
    return torch.cat([low, inner, high], dim=-1)


def _bin(knots: Tensor, x: Tensor, bins: int) -> Tensor:
    """Index of the bin of each ``x`` (``knots[..., i] <= x < knots[..., i + 1]``)."""
    return ((x[..., None] >= knots[..., 1:-1]).sum(-1)).clamp(0, bins - 1)


def _pick(values: Tensor, idx: Tensor) -> Tensor:
    return values.gather(-1, idx[..., None])[..., 0]

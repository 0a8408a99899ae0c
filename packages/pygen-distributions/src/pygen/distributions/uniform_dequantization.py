r"""Uniform dequantization: discrete images to continuous ones, with exact accounting.

Theis, van den Oord and Bethge (2016, "A note on the evaluation of generative models"):
an image of levels ``x = k / (K - 1)``, ``k in {0, ..., K-1}``, becomes
``y = (k + u) / K`` with ``u ~ U[0, 1)^D``, a point of the level's bin of width ``1/K``.
For any density ``p`` on ``[0, 1]^D`` the discrete model ``P(x) = \int_{bin(x)} p(y) dy``
sums to at most one, and by Jensen's inequality

.. math:: \log P(x) \ge \mathbb{E}_u[\log p(y)] - D \log K,

the ELBO with ``q(y | x)`` uniform on the bin (``log q = D log K``). So
``log p(y) - D log K`` is an unbiased estimate of a lower bound on the discrete
log-likelihood, and ``-(that) / (D ln 2)`` an upper bound on bits per dimension: the
figure flow papers report. pygen names it ``elbo`` (never ``log_prob``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from pygen.distributions._dequantization_grid import grid_indices
from pygen.distributions._validation import check_count

__all__ = ["UniformDequantization"]


class UniformDequantization(nn.Module):
    """``y = (k + u) / K``, ``u ~ U[0, 1)``, and ``log q(y | x) = D log K``.

    Args:
        num_bins: ``K``, the number of levels (256 for 8-bit pixels ``p / 255``).

    Raises:
        TypeError: If ``num_bins`` is not an int.
        ValueError: If ``num_bins < 2``.

    Example:
        >>> import math
        >>> import torch
        >>> from pygen.distributions import UniformDequantization
        >>> x = torch.tensor([[[[0.0, 1.0]]]])  # one 1x1x2 image, levels 0 and 255
        >>> y, log_q = UniformDequantization(256)(x)
        >>> bool((y[..., 0] < 1 / 256).all() and (y[..., 1] >= 255 / 256).all())
        True
        >>> round(float(log_q), 4) == round(2 * math.log(256), 4)
        True
    """

    def __init__(self, num_bins: int = 256) -> None:
        super().__init__()
        self.num_bins = check_count("num_bins", num_bins, 2)

    def extra_repr(self) -> str:
        return f"num_bins={self.num_bins}"

    def forward(
        self, x: Tensor, event_ndims: int = 3, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Dequantize ``x``: ``(y, log q(y | x))``, the latter summed over the event.

        Args:
            x: Data on the grid ``k / (num_bins - 1)``.
            event_ndims: Trailing dims that form one example (3 for ``[C, H, W]``).
            generator: Draws ``u``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If a value of ``x`` is off the grid or not finite.
        """
        levels = grid_indices(type(self).__name__, x, self.num_bins)
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        y = (levels + u) / self.num_bins
        numel = math.prod(x.shape[x.dim() - event_ndims :])
        log_q = x.new_full(x.shape[: x.dim() - event_ndims], numel * math.log(self.num_bins))
        return y, log_q

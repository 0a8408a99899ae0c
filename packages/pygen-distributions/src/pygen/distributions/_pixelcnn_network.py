"""The gated PixelCNN network behind the PixelCNN distributions (private).

The network follows van den Oord et al. (2016), "Conditional Image Generation with
PixelCNN Decoders": a *vertical* stack that sees every row above the current pixel and a
*horizontal* stack that sees the pixels to its left in the current row, joined by a
1x1 "link" from the vertical to the horizontal stack, so there is no blind spot. Each
layer is gated, ``tanh(a) * sigmoid(b)``. An optional conditioning vector adds a learned
per-layer bias to ``a`` and ``b`` (the same at every position); an optional conditioning
*map* ``[C_cond, H, W]`` adds a learned per-layer, per-position bias through a 1x1
convolution (the paper's location-dependent conditioning ``V * s``). Neither is an
autoregressive variable, so the model stays exactly normalised for every condition.
Optional dropout acts on each gated output (elementwise, so causality is untouched); it
is active in training mode only.

Causality across the channels of one pixel uses the channel-group masks of PixelRNN /
PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks"): the hidden
features are split into ``C`` contiguous groups, group ``g`` being allowed to depend on
the channels ``< g`` of the current pixel. The first horizontal layer uses mask "A"
(input channel ``c`` feeds group ``g`` only when ``c < g``), every later connection at
the current pixel mask "B" (group ``g'`` feeds group ``g`` when ``g' <= g``), and the
parameters of channel ``c`` are read from group ``c``. So channel ``c`` of a pixel sees
every channel of the pixels before it (raster order) and channels ``< c`` of itself.

Layout of layer ``l`` (``F`` = hidden channels, ``k`` = kernel size, ``kv = kh = k//2+1``)::

    vconv = Conv(kv x k) over input rows i-kv+1..i      (vertical stack)
    v'    = dropout(gate(vconv + cond_v))
    link  = shift_down(Conv1x1(vconv))                   (row i sees rows <= i-1 only)
    hconv = MaskedConv(1 x kh) over columns j-kh+1..j    (horizontal stack)
    h'    = h + MaskedConv1x1(dropout(gate(hconv + link + cond_h)))   (no residual at l = 0)

followed by a head ``MaskedConv1x1(relu(MaskedConv1x1(relu(h))))`` giving ``P``
parameters per sub-pixel. The fast sampler in ``_pixelcnn_sampling`` recomputes exactly
these operations one row (vertical stack) or one pixel (horizontal stack) at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GatedPixelCNNNetwork", "gate"]


def gate(pre: Tensor, dim: int = 1) -> Tensor:
    """Gated activation ``tanh(a) * sigmoid(b)`` of ``pre = [a, b]`` split along ``dim``."""
    a, b = pre.chunk(2, dim=dim)
    return torch.tanh(a) * torch.sigmoid(b)


def _group_mask(out_groups: Tensor, in_groups: Tensor, *, strict: bool) -> Tensor:
    """``mask[o, i] = 1`` where input group ``i`` may feed output group ``o``."""
    if strict:
        return (in_groups[None, :] < out_groups[:, None]).to(torch.get_default_dtype())
    return (in_groups[None, :] <= out_groups[:, None]).to(torch.get_default_dtype())


class MaskedConv2d(nn.Conv2d):
    """A ``Conv2d`` (no padding) whose weight is multiplied by a fixed 0/1 mask."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: tuple[int, int], mask: Tensor
    ):
        super().__init__(in_channels, out_channels, kernel_size)
        self.register_buffer("mask", mask.reshape(self.weight.shape).clone(), persistent=False)

    def masked_weight(self) -> Tensor:
        """The weight actually used: ``weight * mask``."""
        return self.weight * self.mask

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.masked_weight(), self.bias)


class GatedPixelCNNNetwork(nn.Module):
    """Gated PixelCNN mapping an image ``[B, C, H, W]`` to parameters ``[B, C, P, H, W]``.

    Args:
        in_channels: Image channels ``C``.
        params_per_subpixel: Parameters ``P`` emitted per sub-pixel.
        hidden_channels: Width ``F`` of both stacks (``>= C``).
        num_layers: Number of gated layers (``>= 1``).
        kernel_size: Odd kernel size ``k >= 3``; the vertical kernel is ``(k//2+1) x k``,
            the horizontal one ``1 x (k//2+1)``.
        condition_size: Length of the optional conditioning vector, or ``None``.
        condition_channels: Channels of the optional conditioning map (same ``H, W`` as
            the image), or ``None``. At most one of the two is set.
        dropout_p: Dropout probability on every gated output (training mode only).
    """

    def __init__(
        self,
        in_channels: int,
        params_per_subpixel: int,
        hidden_channels: int,
        num_layers: int,
        kernel_size: int,
        condition_size: int | None,
        condition_channels: int | None = None,
        dropout_p: float = 0.0,
    ) -> None:
        super().__init__()
        c, f = in_channels, hidden_channels
        self.in_channels = c
        self.params_per_subpixel = params_per_subpixel
        self.hidden_channels = f
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.condition_size = condition_size
        self.condition_channels = condition_channels
        self.dropout = nn.Dropout(dropout_p)
        self.kv = kernel_size // 2 + 1  # rows of the vertical kernel (i-kv+1 .. i)
        self.kh = kernel_size // 2 + 1  # columns of the horizontal kernel (j-kh+1 .. j)

        image_groups = torch.arange(c)
        hidden_groups = torch.arange(f) * c // f  # contiguous, every group non-empty
        gate_groups = torch.cat([hidden_groups, hidden_groups])  # [a, b] share groups
        head_groups = torch.arange(c * params_per_subpixel) // params_per_subpixel

        self.v_convs = nn.ModuleList()
        self.h_convs = nn.ModuleList()
        self.links = nn.ModuleList()
        self.residuals = nn.ModuleList()
        for layer in range(num_layers):
            in_ch = c if layer == 0 else f
            in_groups = image_groups if layer == 0 else hidden_groups
            self.v_convs.append(nn.Conv2d(in_ch, 2 * f, (self.kv, kernel_size)))
            h_mask = torch.ones(2 * f, in_ch, 1, self.kh)
            h_mask[:, :, 0, -1] = _group_mask(gate_groups, in_groups, strict=layer == 0)
            self.h_convs.append(MaskedConv2d(in_ch, 2 * f, (1, self.kh), h_mask))
            self.links.append(nn.Conv2d(2 * f, 2 * f, 1))
            res_mask = _group_mask(hidden_groups, hidden_groups, strict=False)
            self.residuals.append(MaskedConv2d(f, f, (1, 1), res_mask))
        self.head_hidden = MaskedConv2d(
            f, f, (1, 1), _group_mask(hidden_groups, hidden_groups, strict=False)
        )
        self.head_out = MaskedConv2d(
            f,
            c * params_per_subpixel,
            (1, 1),
            _group_mask(head_groups, hidden_groups, strict=False),
        )
        self.condition = (
            nn.Linear(condition_size, num_layers * 4 * f) if condition_size is not None else None
        )
        self.condition_map = (
            nn.Conv2d(condition_channels, num_layers * 4 * f, 1)
            if condition_channels is not None
            else None
        )

    def condition_biases(
        self, condition: Tensor | None, batch: int
    ) -> list[tuple[Tensor, Tensor]] | None:
        """Per-layer gate biases ``(cond_v, cond_h)``, or ``None`` without a condition.

        Each bias is ``[batch, 2F, 1, 1]`` for a conditioning vector ``[batch, D]`` and
        ``[batch, 2F, H, W]`` for a conditioning map ``[batch, C_cond, H, W]``.
        """
        if condition is None:
            return None
        if self.condition is not None:
            biases = self.condition(condition)[:, :, None, None]
        elif self.condition_map is not None:
            biases = self.condition_map(condition)
        else:
            return None
        biases = biases.reshape(
            batch, self.num_layers, 2, 2 * self.hidden_channels, *biases.shape[2:]
        )
        return [(biases[:, layer, 0], biases[:, layer, 1]) for layer in range(self.num_layers)]

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Parameters ``[B, C, P, H, W]`` for the network input ``x`` of shape ``[B, C, H, W]``."""
        batch, _, height, width = x.shape
        biases = self.condition_biases(condition, batch)
        pad = self.kernel_size // 2
        v = h = x
        for layer in range(self.num_layers):
            vconv = self.v_convs[layer](F.pad(v, (pad, pad, self.kv - 1, 0)))
            link = F.pad(self.links[layer](vconv), (0, 0, 1, 0))[:, :, :height, :]
            hpre = self.h_convs[layer](F.pad(h, (self.kh - 1, 0, 0, 0))) + link
            vpre = vconv
            if biases is not None:
                cond_v, cond_h = biases[layer]
                vpre = vpre + cond_v
                hpre = hpre + cond_h
            v = self.dropout(gate(vpre))
            out = self.residuals[layer](self.dropout(gate(hpre)))
            h = out if layer == 0 else h + out
        params = self.head_out(F.relu(self.head_hidden(F.relu(h))))
        return params.reshape(batch, self.in_channels, self.params_per_subpixel, height, width)

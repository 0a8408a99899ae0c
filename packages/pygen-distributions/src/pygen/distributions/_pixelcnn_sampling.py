"""Naive and fast autoregressive samplers for the gated PixelCNN (private).

Both samplers fill an image sub-pixel by sub-pixel in raster order (row, column, then
channel) and turn *pre-drawn* uniforms into values with the same inverse-cdf function,
so for the same uniforms they produce the same images whenever they compute the same
per-sub-pixel parameters.

* :func:`naive_sample` is the reference: one full network pass per sub-pixel,
  ``C * H * W`` passes over the whole image.
* :func:`fast_sample` follows the caching idea of Ramachandran et al. (2017), "Fast
  Generation for Convolutional Autoregressive Models". Once row ``i`` of the image is
  complete, the vertical stack of every layer is advanced by one row (a convolution over
  the cached last ``kv`` rows of that layer's input), and the vertical-to-horizontal link
  for row ``i + 1`` is stored. Within a row, each new pixel runs the horizontal stack
  and the output head at that single position only: per layer one small matrix product
  over the cached ``kh`` left neighbours plus the cached link, so a pixel costs
  ``O(depth)`` work instead of a full-image pass. For ``C > 1`` the pixel's column is
  recomputed once per channel; after the last channel every group's features are exact
  (group ``g`` depends only on channels ``< g``) and are kept as the left-neighbour cache.
  The operations are those of the full forward, position by position; only the order of
  the floating-point sums differs (matrix products instead of convolutions).

Both also *complete* images: given ``observed`` values and a boolean ``mask`` of the
observed sub-pixels, they keep those values and draw only the others, each from its
conditional given everything before it in raster order. The uniforms of every sub-pixel
are still drawn up front, so an empty mask gives exactly ``sample``'s images. A sub-pixel
observed in every image of the batch costs no network work in either sampler (the fast
one still runs the horizontal stack at an observed pixel of a partly observed row, since
its right neighbours need those features). In the fast sampler a row observed in every
image only advances the vertical stack, because nothing below reads the horizontal
stack; consecutive such rows advance it in one pass that computes, per layer, only the
rows a later row still reads (over the observed top half of a 28-row image with 8 layers
and ``k = 5``, 49 of the 98 row convolutions of the hidden layers); and the rows after the
last drawn sub-pixel cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from pygen.distributions._pixelcnn_network import GatedPixelCNNNetwork, gate

__all__ = ["fast_sample", "naive_sample"]

#: ``draw(params [N, P], uniforms [N, R]) -> values [N]``: inverse cdf of one sub-pixel.
DrawFn = Callable[[Tensor, Tensor], Tensor]
#: Elementwise map from image values to the network input.
InputFn = Callable[[Tensor], Tensor]


#: ``todo[c][i][j]`` codes: the sub-pixel is observed in every image (nothing to do),
#: drawn in every image, or drawn in some and observed (kept) in the others.
OBSERVED, DRAWN, MIXED = 0, 1, 2


def _start(
    uniforms: Tensor, observed: Tensor | None, mask: Tensor | None
) -> tuple[Tensor, Tensor | None, list[list[list[int]]]]:
    """The starting images, the mask, and the ``todo[c][i][j]`` code of every sub-pixel."""
    n, channels, height, width, _ = uniforms.shape
    x = torch.zeros(n, channels, height, width, dtype=uniforms.dtype, device=uniforms.device)
    if mask is not None and observed is not None and bool(mask.any()):
        drawn_somewhere = (~mask).any(dim=0).to(torch.int8)
        todo = drawn_somewhere * (1 + mask.any(dim=0).to(torch.int8))
        return torch.where(mask, observed, x), mask, todo.tolist()
    # Nothing observed: plain sampling, no observed value to keep anywhere.
    return x, None, [[[DRAWN] * width for _ in range(height)] for _ in range(channels)]


def _keep_observed(
    drawn: Tensor, x: Tensor, mask: Tensor | None, code: int, c: int, i: int, j: int
) -> Tensor:
    """``drawn`` where sub-pixel ``(c, i, j)`` is unobserved, the observed value elsewhere."""
    if code != MIXED or mask is None:
        return drawn
    return torch.where(mask[:, c, i, j], x[:, c, i, j], drawn)


def naive_sample(
    network: GatedPixelCNNNetwork,
    uniforms: Tensor,
    condition: Tensor | None,
    to_input: InputFn,
    draw: DrawFn,
    observed: Tensor | None = None,
    mask: Tensor | None = None,
) -> Tensor:
    """Sample ``[N, C, H, W]`` images with one full network pass per sub-pixel.

    Args:
        network: The PixelCNN network.
        uniforms: ``[N, C, H, W, R]`` uniforms in ``[0, 1)``, ``R`` per sub-pixel.
        condition: ``[N, D]`` conditioning vectors, ``[N, C_cond, H, W]`` conditioning
            maps, or ``None``.
        to_input: Map from image values to network input.
        draw: Inverse cdf of one sub-pixel given its parameters.
        observed: ``[N, C, H, W]`` values to keep where ``mask`` is true (completion).
        mask: ``[N, C, H, W]`` booleans, true for an observed sub-pixel.

    Returns:
        The images, ``[N, C, H, W]``.
    """
    _, channels, height, width, _ = uniforms.shape
    x, mask, todo = _start(uniforms, observed, mask)
    for i in range(height):
        for j in range(width):
            for c in range(channels):
                code = todo[c][i][j]
                if code == OBSERVED:
                    continue
                params = network(to_input(x), condition)[:, c, :, i, j]
                drawn = draw(params, uniforms[:, c, i, j])
                x[:, c, i, j] = _keep_observed(drawn, x, mask, code, c, i, j)
    return x


class _CachedStacks:
    """The fast sampler's caches and the network's weights laid out for one-position work.

    * ``v_tail[l]``: the last ``kv - 1`` rows of the vertical stack's input to layer
      ``l`` (the image for ``l = 0``), ``[N, ch, kv - 1, W + 2 * pad]``, zero-padded
      exactly like the full forward; all that later rows read of the rows above.
    * ``h[l]``: the horizontal stack's input to layer ``l`` (``h[depth]`` its output) in
      the current row, position-major ``[N, W + kh - 1, ch]`` and left-padded, so the
      ``kh`` left neighbours of a pixel are one contiguous view (no copy per pixel).
    * ``row_pre[l]``: what every position of the current row adds to layer ``l``'s
      horizontal pre-activation besides its own window: the link from the vertical stack,
      the link's and the horizontal conv's biases and the conditioning bias,
      ``[W, N, 2F]`` so that column ``j`` is one contiguous ``[N, 2F]`` matrix.
    """

    def __init__(
        self, net: GatedPixelCNNNetwork, uniforms: Tensor, condition: Tensor | None
    ) -> None:
        n, channels, _, width, _ = uniforms.shape
        dtype, device = uniforms.dtype, uniforms.device
        f, kv, kh, depth = net.hidden_channels, net.kv, net.kh, net.num_layers
        self.n, self.width = n, width
        self.f, self.kv, self.kh, self.depth = f, kv, kh, depth
        self.pad = net.kernel_size // 2
        in_channels = [channels] + [f] * (depth - 1)
        # The last kv - 1 rows of every layer's vertical input (zeros: the top padding).
        self.v_tail = [
            torch.zeros(n, ch, kv - 1, width + 2 * self.pad, dtype=dtype, device=device)
            for ch in in_channels
        ]
        self.h = [
            torch.zeros(n, width + kh - 1, ch, dtype=dtype, device=device)
            for ch in [*in_channels, f]
        ]
        # Horizontal conv weights for a position-major window [N, kh * ch]: [kh * ch, 2F].
        self.h_weights = [
            conv.masked_weight()[:, :, 0, :].permute(2, 1, 0).reshape(-1, 2 * f)
            for conv in net.h_convs
        ]
        self.h_biases = [conv.bias for conv in net.h_convs]
        self.v_weights = [(conv.weight, conv.bias) for conv in net.v_convs]
        self.res_weights = [conv.masked_weight().reshape(f, f).T for conv in net.residuals]
        self.res_biases = [conv.bias for conv in net.residuals]
        self.link_weights = [link.weight.reshape(2 * f, 2 * f).T for link in net.links]
        self.row_biases = [
            conv.bias + link.bias for conv, link in zip(net.h_convs, net.links, strict=True)
        ]
        self.head_hidden_w = net.head_hidden.masked_weight().reshape(f, f).T
        self.head_hidden_b = net.head_hidden.bias
        p = net.params_per_subpixel
        self.head_out_w = net.head_out.masked_weight().reshape(channels, p, f).transpose(1, 2)
        self.head_out_b = net.head_out.bias.reshape(channels, p)
        # Persistent buffers, so every per-pixel view below is made once, not per pixel.
        self.row_pre = torch.zeros(depth, width, n, 2 * f, dtype=dtype, device=device)
        self._pre = torch.empty(n, 2 * f, dtype=dtype, device=device)
        self._tanh = torch.empty(n, f, dtype=dtype, device=device)
        self._sigmoid = torch.empty(n, f, dtype=dtype, device=device)
        self._pre_a, self._pre_b = self._pre[:, :f], self._pre[:, f:]
        # Per column j, per layer: (row_pre, window, weight, output, residual input, bias).
        self._plan = [
            [
                (
                    self.row_pre[layer, j],
                    self.h[layer][:, j : j + kh].reshape(n, -1),  # a view
                    self.h_weights[layer],
                    self.h[layer + 1][:, kh - 1 + j],
                    self.h[layer][:, kh - 1 + j] if layer > 0 else None,
                    self.res_weights[layer],
                    self.res_biases[layer],
                )
                for layer in range(depth)
            ]
            for j in range(width)
        ]
        biases = net.condition_biases(condition, n)
        self.cond_v: list[Tensor | None] = [None] * depth
        self.cond_h: list[Tensor | None] = [None] * depth
        if biases is not None:
            self.cond_v = [bias_v for bias_v, _ in biases]
            self.cond_h = [bias_h for _, bias_h in biases]

    def _cond_h_row(self, layer: int, i: int) -> Tensor | None:
        """Layer ``layer``'s conditioning bias of the horizontal stack in row ``i``.

        ``[N, 2F]`` for a vector condition (every column), ``[W, N, 2F]`` for a map.
        """
        bias = self.cond_h[layer]
        if bias is None:
            return None
        if bias.shape[2] == 1:
            return bias[:, :, 0, 0]
        return bias[:, :, i, :].permute(2, 0, 1)

    def start_first_row(self) -> None:
        """``row_pre`` of row 0: no link (nothing above it), biases only."""
        for layer in range(self.depth):
            self.row_pre[layer].copy_(self.h_biases[layer].expand_as(self.row_pre[layer]))
            cond = self._cond_h_row(layer, 0)
            if cond is not None:
                self.row_pre[layer].add_(cond)

    def advance_vertical(self, xin: Tensor, start: int, stop: int) -> None:
        """Advance the vertical stack by the complete rows ``start:stop``; ready row ``stop``.

        Only the rows something still reads are computed: row ``stop`` reads every layer's
        output at row ``stop - 1`` (its link), the rows after it read the last ``kv - 1``
        rows of every layer's input, so layer ``l`` (0-based, ``depth`` layers) needs its
        output from row ``stop - 1 - (kv - 1) * (depth - 1 - l)`` on. Over a long observed
        prefix this skips about half of the convolution work.
        """
        kv, pad, depth = self.kv, self.pad, self.depth
        new = F.pad(xin[:, :, start:stop, :], (pad, pad))  # layer 0's new input rows
        new_first = start
        for layer in range(depth):
            first = max(start, stop - 1 - (kv - 1) * (depth - 1 - layer))
            needed = first - kv + 1  # first input row of the output rows first..stop-1
            if needed >= new_first:
                rows = new[:, :, needed - new_first :]
            else:  # the rows before `start` come from the tail (new_first == start here)
                rows = torch.cat([self.v_tail[layer][:, :, needed - start :], new], dim=2)
            self.v_tail[layer] = rows[:, :, rows.shape[2] - (kv - 1) :]
            vconv = F.conv2d(rows, *self.v_weights[layer])  # output rows first..stop-1
            # Row stop's link: a 1x1 conv of row stop-1, computed position-major.
            last = vconv[:, :, -1, :].permute(2, 0, 1).reshape(-1, 2 * self.f)
            row_pre = self.row_pre[layer]
            flat = row_pre.view(-1, 2 * self.f)
            torch.addmm(self.row_biases[layer], last, self.link_weights[layer], out=flat)
            cond = self._cond_h_row(layer, stop)
            if cond is not None:
                row_pre.add_(cond)
            if layer + 1 < depth:
                cond_v = self.cond_v[layer]
                if cond_v is not None:
                    vconv = vconv + (cond_v if cond_v.shape[2] == 1 else cond_v[:, :, first:stop])
                new, new_first = F.pad(gate(vconv), (pad, pad)), first

    def horizontal(self, j: int) -> None:
        """Run every layer's horizontal stack at column ``j`` of the current row."""
        pre, pre_a, pre_b = self._pre, self._pre_a, self._pre_b
        gated, sigmoid = self._tanh, self._sigmoid
        for row_pre, window, weight, out, residual, res_weight, res_bias in self._plan[j]:
            torch.addmm(row_pre, window, weight, out=pre)
            torch.tanh(pre_a, out=gated)
            torch.sigmoid(pre_b, out=sigmoid)
            gated.mul_(sigmoid)
            if residual is None:  # layer 0
                torch.addmm(res_bias, gated, res_weight, out=out)
            else:
                torch.addmm(residual, gated, res_weight, out=out)
                out.add_(res_bias)

    def params(self, j: int, c: int) -> Tensor:
        """The head's parameters ``[N, P]`` of channel ``c`` at column ``j``."""
        features = torch.relu(self.h[self.depth][:, self.kh - 1 + j])
        hidden = torch.addmm(self.head_hidden_b, features, self.head_hidden_w).relu_()
        return torch.addmm(self.head_out_b[c], hidden, self.head_out_w[c])


def fast_sample(
    network: GatedPixelCNNNetwork,
    uniforms: Tensor,
    condition: Tensor | None,
    to_input: InputFn,
    draw: DrawFn,
    observed: Tensor | None = None,
    mask: Tensor | None = None,
) -> Tensor:
    """Sample ``[N, C, H, W]`` images with cached activations (O(depth) per pixel).

    Same arguments and result as :func:`naive_sample`.
    """
    _, channels, height, width, _ = uniforms.shape
    x, mask, todo = _start(uniforms, observed, mask)
    drawn_rows = [
        i
        for i in range(height)
        if any(todo[c][i][j] for c in range(channels) for j in range(width))
    ]
    if not drawn_rows:
        return x
    xin = to_input(x)
    stacks = _CachedStacks(network, uniforms, condition)
    if drawn_rows[0] == 0:
        stacks.start_first_row()
    else:  # the rows above the first drawn one, in one pass
        stacks.advance_vertical(xin, 0, drawn_rows[0])
    h0, kh = stacks.h[0], stacks.kh
    for row, i in enumerate(drawn_rows):
        for j in range(width):
            col = kh - 1 + j
            pixel_in = xin[:, :, i, j]  # [N, C], a view
            fresh = False  # do the cached features at (i, j) see the whole pixel?
            for c in range(channels):
                code = todo[c][i][j]
                if code == OBSERVED:
                    continue
                if c:  # channel c reads channels < c of its own pixel (mask "A")
                    h0[:, col] = pixel_in
                stacks.horizontal(j)
                fresh = c == channels - 1
                drawn = draw(stacks.params(j, c), uniforms[:, c, i, j])
                value = _keep_observed(drawn, x, mask, code, c, i, j)
                x[:, c, i, j] = value
                pixel_in[:, c] = to_input(value)
            # The finished pixel, for its right neighbours.
            h0[:, col] = pixel_in
            if not fresh and j + 1 < width:
                stacks.horizontal(j)
        if row + 1 < len(drawn_rows):  # rows i .. next drawn row - 1 are complete
            stacks.advance_vertical(xin, i, drawn_rows[row + 1])
    return x

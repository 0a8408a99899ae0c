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

Both also *complete* images: given ``observed`` values and a boolean ``mask`` of the
observed sub-pixels, they keep those values and draw only the others, each from its
conditional given everything before it in raster order. The uniforms of every sub-pixel
are still drawn up front, so an empty mask gives exactly ``sample``'s images. A sub-pixel
observed in every image of the batch costs no network work in either sampler (the fast
one still runs the horizontal stack at an observed pixel of a partly observed row, since
its right neighbours need those features); a row observed in every image only advances
the vertical stack, because nothing below reads the horizontal stack, and the rows
observed in every image above the first drawn sub-pixel advance it in one pass.
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


def _start(
    uniforms: Tensor, observed: Tensor | None, mask: Tensor | None
) -> tuple[Tensor, Tensor | None, list[list[list[bool]]]]:
    """The starting images, the mask, and ``todo[c][i][j]``: is the sub-pixel drawn anywhere."""
    n, channels, height, width, _ = uniforms.shape
    x = torch.zeros(n, channels, height, width, dtype=uniforms.dtype, device=uniforms.device)
    if mask is not None and observed is not None and bool(mask.any()):
        return torch.where(mask, observed, x), mask, (~mask).any(dim=0).tolist()
    # Nothing observed: plain sampling, no observed value to keep anywhere.
    return x, None, [[[True] * width for _ in range(height)] for _ in range(channels)]


def _keep_observed(drawn: Tensor, x: Tensor, mask: Tensor | None, c: int, i: int, j: int) -> Tensor:
    """``drawn`` where sub-pixel ``(c, i, j)`` is unobserved, the observed value elsewhere."""
    if mask is None:
        return drawn
    return torch.where(mask[:, c, i, j], x[:, c, i, j], drawn)


def _rows_bias(bias: Tensor, start: int, stop: int) -> Tensor:
    """Rows ``start:stop`` (``[N, 2F, R, W]``) of a per-position bias; a vector's as it is."""
    return bias if bias.shape[2] == 1 else bias[:, :, start:stop, :]


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
                if not todo[c][i][j]:
                    continue
                params = network(to_input(x), condition)[:, c, :, i, j]
                drawn = draw(params, uniforms[:, c, i, j])
                x[:, c, i, j] = _keep_observed(drawn, x, mask, c, i, j)
    return x


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
    net = network
    n, channels, height, width, _ = uniforms.shape
    dtype, device = uniforms.dtype, uniforms.device
    f, kv, kh, depth = net.hidden_channels, net.kv, net.kh, net.num_layers
    pad = net.kernel_size // 2
    p = net.params_per_subpixel
    x, mask, todo = _start(uniforms, observed, mask)
    xin = to_input(x)

    biases = net.condition_biases(condition, n)
    in_channels = [channels] + [f] * (depth - 1)
    # Vertical stack inputs of every layer, zero-padded exactly like the full forward.
    v_cache = [
        torch.zeros(n, ch, height + kv - 1, width + 2 * pad, dtype=dtype, device=device)
        for ch in in_channels
    ]
    # Horizontal stack inputs (h_0 = image, h_l for l >= 1) of the current row, left-padded.
    h_cache = [torch.zeros(n, ch, width + kh - 1, dtype=dtype, device=device) for ch in in_channels]
    h_cache.append(torch.zeros(n, f, width + kh - 1, dtype=dtype, device=device))
    # Link contribution (+ conditioning bias) of every layer for the current row: [N, 2F, W].
    links = [torch.zeros(n, 2 * f, width, dtype=dtype, device=device) for _ in range(depth)]

    h_weights = [conv.masked_weight().reshape(2 * f, -1) for conv in net.h_convs]
    h_biases = [conv.bias for conv in net.h_convs]
    res_weights = [conv.masked_weight().reshape(f, f) for conv in net.residuals]
    res_biases = [conv.bias for conv in net.residuals]
    head_hidden_w = net.head_hidden.masked_weight().reshape(f, f)
    head_out_w = net.head_out.masked_weight().reshape(channels, p, f)
    head_out_b = net.head_out.bias.reshape(channels, p)
    zero = torch.zeros((), dtype=dtype, device=device)
    cond_v = [zero[None, None, None, None]] * depth
    cond_h = [zero[None, None, None, None]] * depth
    if biases is not None:
        cond_v = [bias_v for bias_v, _ in biases]
        cond_h = [bias_h for _, bias_h in biases]

    def horizontal_stack(i: int, j: int, row_pre: list[Tensor]) -> None:
        """Run every layer's horizontal stack at pixel ``(i, j)`` from the cached inputs."""
        col = kh - 1 + j
        for layer in range(depth):
            window = h_cache[layer][:, :, j : j + kh].reshape(n, -1)
            pre = torch.addmm(h_biases[layer], window, h_weights[layer].T)
            pre = pre + row_pre[layer][:, :, j]
            out = torch.addmm(res_biases[layer], gate(pre), res_weights[layer].T)
            if layer > 0:
                out = out + h_cache[layer][:, :, col]
            h_cache[layer + 1][:, :, col] = out

    def advance_vertical_stack(start: int, stop: int) -> None:
        """Advance every layer's vertical stack by the complete rows ``start:stop``."""
        rows = slice(kv - 1 + start, kv - 1 + stop)
        v_cache[0][:, :, rows, pad : pad + width] = xin[:, :, start:stop, :]
        for layer in range(depth):
            vconv = net.v_convs[layer](v_cache[layer][:, :, start : stop + kv - 1, :])
            links[layer] = net.links[layer](vconv[:, :, -1:, :])[:, :, 0, :]  # for row stop
            if layer + 1 < depth:
                vpre = vconv + _rows_bias(cond_v[layer], start, stop)
                v_cache[layer + 1][:, :, rows, pad : pad + width] = gate(vpre)

    def row_drawn(i: int) -> bool:
        return any(todo[c][i][j] for c in range(channels) for j in range(width))

    prefix = 0  # rows observed in every image above the first drawn sub-pixel
    while prefix < height and not row_drawn(prefix):
        prefix += 1
    if prefix:
        advance_vertical_stack(0, prefix)
    for i in range(prefix, height):
        if row_drawn(i):
            # Row i of the horizontal stack: link from row i-1 plus conditioning, per column.
            row_pre = [
                links[layer] + _rows_bias(cond_h[layer], i, i + 1)[:, :, 0, :]
                for layer in range(depth)
            ]
            for cache in h_cache:
                cache.zero_()
            for j in range(width):
                col = kh - 1 + j
                fresh = False  # do the cached features at (i, j) see the whole pixel?
                for c in range(channels):
                    if not todo[c][i][j]:
                        continue
                    h_cache[0][:, :, col] = xin[:, :, i, j]
                    horizontal_stack(i, j, row_pre)
                    fresh = c == channels - 1
                    hidden = F.relu(
                        torch.addmm(
                            net.head_hidden.bias,
                            F.relu(h_cache[depth][:, :, col]),
                            head_hidden_w.T,
                        )
                    )
                    params = torch.addmm(head_out_b[c], hidden, head_out_w[c].T)
                    drawn = draw(params, uniforms[:, c, i, j])
                    x[:, c, i, j] = _keep_observed(drawn, x, mask, c, i, j)
                    xin[:, c, i, j] = to_input(x[:, c, i, j])
                # The finished pixel, for its right neighbours.
                h_cache[0][:, :, col] = xin[:, :, i, j]
                if not fresh and j + 1 < width:
                    horizontal_stack(i, j, row_pre)
        advance_vertical_stack(i, i + 1)  # row i is complete
    return x

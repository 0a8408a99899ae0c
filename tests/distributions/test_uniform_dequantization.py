"""Tests of pygen.distributions.uniform_dequantization.UniformDequantization."""

from __future__ import annotations

import math

import pytest
import torch

from pygen.distributions import UniformDequantization


def test_validation_and_off_grid_values() -> None:
    with pytest.raises(ValueError, match="num_bins: expected an int >= 2, found 1"):
        UniformDequantization(1)
    dequantize = UniformDequantization(256)
    with pytest.raises(ValueError, match=r"off it, e.g. 0.5\b"):
        dequantize(torch.full((1, 2, 2), 0.5))  # 127.5 / 255: half a level off the grid
    with pytest.raises(ValueError, match=r"data grid k / 255 .* 1 value\(s\) off it, e.g. 1.2"):
        dequantize(torch.tensor([[[0.0, 1.2]]]))
    with pytest.raises(ValueError, match=r"off it, e.g. nan"):
        dequantize(torch.tensor([[[float("nan")]]]))
    with pytest.raises(TypeError, match=r"found dtype torch\.uint8 \(divide 8-bit pixels by 255\)"):
        dequantize(torch.zeros(1, 2, 2, dtype=torch.uint8))


def test_each_value_lands_uniformly_in_its_bin_and_log_q_is_d_log_k() -> None:
    levels = torch.arange(256.0).reshape(1, 16, 16)
    x = (levels / 255).expand(400, 1, 16, 16)
    y, log_q = UniformDequantization(256)(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(y * 256), levels.expand_as(y))
    u = y * 256 - levels
    assert abs(float(u.mean()) - 0.5) < 0.01
    assert abs(float(u.var()) - 1 / 12) < 0.01
    assert log_q.shape == (400,)
    torch.testing.assert_close(log_q, torch.full((400,), 256 * math.log(256)))
    _, per_pixel = UniformDequantization(4)(torch.tensor([0.0, 1 / 3, 1.0]), event_ndims=0)
    torch.testing.assert_close(per_pixel, torch.full((3,), math.log(4)))

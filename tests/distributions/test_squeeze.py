"""Tests of pygen.distributions.squeeze.Squeeze."""

from __future__ import annotations

import pytest
import torch

from pygen.distributions import Squeeze


def test_layout_and_inverse() -> None:
    x = torch.arange(2 * 4 * 6, dtype=torch.float64).reshape(2, 4, 6)
    z, log_det = Squeeze().normalize(x)
    assert z.shape == (8, 2, 3)
    # channel 4c + 2i + j holds input channel c at offset (i, j) of each 2x2 block
    for c in range(2):
        for i in range(2):
            for j in range(2):
                torch.testing.assert_close(z[4 * c + 2 * i + j], x[c, i::2, j::2])
    assert float(log_det) == 0.0
    assert torch.equal(Squeeze().generate(z)[0], x)
    batched = torch.randn(3, 5, 1, 4, 4)
    assert torch.equal(Squeeze().generate(Squeeze().normalize(batched)[0])[0], batched)


@pytest.mark.usefixtures("float64")
def test_volume_preserving(jacobian_log_det) -> None:
    x = torch.randn(2, 4, 4)
    assert abs(jacobian_log_det(Squeeze().normalize, x)) < 1e-12


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"even height and width, found shape \(1, 3, 4\)"):
        Squeeze().normalize(torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"channel count divisible by 4, found shape \(6, 2, 2\)"):
        Squeeze().generate(torch.zeros(6, 2, 2))
    transform = Squeeze()
    assert transform.forward_shape((5, 4, 2, 2)) == (5, 1, 4, 4)
    assert transform.inverse_shape((1, 4, 4)) == (4, 2, 2)
    z = torch.randn(3, 4, 2, 2)
    assert transform(z).shape == (3, 1, 4, 4)  # torch Transform: latent to data
    assert torch.equal(transform.inv(transform(z)), z)
    assert torch.equal(transform.log_abs_det_jacobian(z, transform(z)), torch.zeros(3))

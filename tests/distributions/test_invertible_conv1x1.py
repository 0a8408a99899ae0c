"""Tests of pygen.distributions.invertible_conv1x1.InvertibleConv1x1."""

from __future__ import annotations

import pytest
import torch

from pygen.distributions import InvertibleConv1x1


def test_validation() -> None:
    with pytest.raises(ValueError, match="num_channels: expected an int >= 1, found 0"):
        InvertibleConv1x1(0)
    conv = InvertibleConv1x1(3)
    with pytest.raises(ValueError, match=r"expected 3 channels .* found shape \(2, 2, 4, 4\)"):
        conv.normalize(torch.zeros(2, 2, 4, 4))
    with pytest.raises(ValueError, match=r"non-finite \(e.g. inf\)"):
        conv.generate(torch.full((3, 2, 2), float("inf")))
    with pytest.raises(TypeError, match=r"expected a floating-point tensor, found torch\.int64"):
        conv.normalize(torch.zeros(3, 2, 2, dtype=torch.long))


def test_starts_as_a_rotation_and_weight_is_lu_product() -> None:
    conv = InvertibleConv1x1(5, generator=torch.Generator().manual_seed(3))
    weight = conv.weight()
    torch.testing.assert_close(weight @ weight.T, torch.eye(5), atol=1e-5, rtol=0)
    # The strict-triangle masks hold: changing the masked-out entries changes nothing.
    with torch.no_grad():
        conv.lower.add_(torch.triu(torch.ones(5, 5)))
        conv.upper.add_(torch.tril(torch.ones(5, 5)))
    torch.testing.assert_close(conv.weight(), weight)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("channels", [2, 4])
def test_log_det_matches_autograd_jacobian_and_inverse_is_exact(
    channels: int, jacobian_log_det, randomize
) -> None:
    conv = InvertibleConv1x1(channels, generator=torch.Generator().manual_seed(0))
    randomize(conv, std=0.5)  # away from a rotation, |det| != 1
    x = torch.randn(channels, 4, 4)
    with torch.no_grad():
        z, log_det = conv.normalize(x)
        back, log_det_back = conv.generate(z)
    assert abs(float(log_det)) > 0.1
    assert abs(float(log_det) - jacobian_log_det(conv.normalize, x)) < 1e-10
    with torch.no_grad():
        weight_log_det = float(torch.linalg.slogdet(conv.weight())[1])
    assert abs(float(log_det) - 16 * weight_log_det) < 1e-10
    assert (back - x).abs().max() < 1e-10
    assert abs(float(log_det + log_det_back)) < 1e-10
    assert abs(float(log_det_back) - jacobian_log_det(conv.generate, z)) < 1e-10


def test_state_dict_round_trip_keeps_the_map() -> None:
    conv = InvertibleConv1x1(3)
    copy = InvertibleConv1x1(3)
    copy.load_state_dict(conv.state_dict())
    x = torch.randn(2, 3, 2, 2)
    torch.testing.assert_close(copy.normalize(x)[0], conv.normalize(x)[0])

"""Tests of pygen.distributions.act_norm.ActNorm."""

from __future__ import annotations

import pytest
import torch

from pygen.distributions import ActNorm, InvertibleConv1x1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_channels": 0}, ValueError, "num_channels: expected an int >= 1, found 0"),
        ({"num_channels": 2.0}, TypeError, "num_channels: expected an int, found float"),
        ({"num_channels": 2, "eps": 0.0}, ValueError, "eps: expected a float > 0, found 0.0"),
    ],
)
def test_constructor_validation(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        ActNorm(**kwargs)


def test_invalid_input_names_shapes_and_values() -> None:
    norm = ActNorm(3)
    with pytest.raises(ValueError, match=r"expected 3 channels .* found shape \(2, 4, 5, 5\)"):
        norm.normalize(torch.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"expected a shape \[\.\.\., C, H, W\], found shape"):
        norm.normalize(torch.zeros(3, 5))
    bad = torch.zeros(2, 3, 2, 2)
    bad[1, 2, 0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"1 non-finite \(e.g. nan\)"):
        norm.normalize(bad)
    assert not bool(norm.initialized)  # a refused batch does not initialise
    with pytest.raises(ValueError, match="takes no condition"):
        norm.normalize(torch.zeros(2, 3, 2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="at least two values per channel"):
        ActNorm(2).initialize(torch.zeros(2, 1, 1))


def test_data_dependent_init_gives_zero_mean_unit_variance() -> None:
    torch.manual_seed(0)
    x = torch.tensor([3.0, -1.0, 10.0]).view(3, 1, 1) + torch.tensor([0.5, 2.0, 4.0]).view(
        3, 1, 1
    ) * torch.randn(32, 3, 5, 5)
    norm = ActNorm(3)
    z, _ = norm.normalize(x)
    assert bool(norm.initialized)
    torch.testing.assert_close(z.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std((0, 2, 3), unbiased=False), torch.ones(3), atol=1e-4, rtol=0)
    # Later batches do not re-initialise.
    loc = norm.loc.detach().clone()
    norm.normalize(x * 7)
    torch.testing.assert_close(norm.loc.detach(), loc)


def test_init_survives_state_dict_round_trip_and_resume() -> None:
    x = 2 + 3 * torch.randn(16, 2, 4, 4)
    norm = ActNorm(2)
    norm.normalize(x)
    state = norm.state_dict()
    assert set(state) == {"loc", "log_scale", "initialized"}
    resumed = ActNorm(2)
    resumed.load_state_dict(state)
    assert bool(resumed.initialized)
    other = 100 + torch.randn(16, 2, 4, 4)  # would move loc to ~100 if it re-initialised
    torch.testing.assert_close(resumed.normalize(other)[0], norm.normalize(other)[0])
    torch.testing.assert_close(resumed.loc, norm.loc)


@pytest.mark.usefixtures("float64")
def test_log_det_matches_autograd_jacobian_and_inverse_is_exact(
    jacobian_log_det, randomize
) -> None:
    norm = ActNorm(2)
    norm.normalize(torch.randn(8, 2, 4, 4))
    randomize(norm)
    x = torch.randn(2, 4, 4)
    with torch.no_grad():
        z, log_det = norm.normalize(x)
        back, log_det_back = norm.generate(z)
    assert abs(float(log_det) - jacobian_log_det(norm.normalize, x)) < 1e-10
    assert (back - x).abs().max() < 1e-10
    assert abs(float(log_det + log_det_back)) < 1e-10
    assert abs(float(log_det_back) - jacobian_log_det(norm.generate, z)) < 1e-10
    assert norm.normalize(torch.randn(3, 5, 2, 4, 4))[1].shape == (3, 5)


def test_is_a_torch_transform_in_a_transformed_distribution() -> None:
    norm = ActNorm(2)
    norm.normalize(torch.randn(8, 2, 3, 3))
    conv = InvertibleConv1x1(2)
    assert isinstance(norm, torch.distributions.Transform)
    assert norm.domain.event_dim == 3
    transform = torch.distributions.ComposeTransform([conv, norm])
    z = torch.randn(4, 2, 3, 3)
    x = transform(z)
    torch.testing.assert_close(transform.inv(x), z, atol=1e-5, rtol=0)
    expected = conv.generate(z)[1] + norm.generate(conv.generate(z)[0])[1]
    torch.testing.assert_close(transform.log_abs_det_jacobian(z, x), expected)
    base = torch.distributions.Independent(
        torch.distributions.Normal(torch.zeros(2, 3, 3), torch.ones(2, 3, 3)), 3
    )
    flow = torch.distributions.TransformedDistribution(base, [transform])
    by_hand = base.log_prob(conv.normalize(norm.normalize(x)[0])[0]) - expected
    torch.testing.assert_close(flow.log_prob(x), by_hand, atol=1e-5, rtol=1e-5)

"""Tests of pygen.distributions.glow.Glow and its coupling (float64 exactness)."""

from __future__ import annotations

import math

import pytest
import torch

from pygen.distributions import Glow
from pygen.distributions._glow_network import AffineCoupling


def _ready(glow: Glow, randomize, seed: int = 0, condition=None) -> Glow:
    """Initialise the ActNorms on a batch, then randomise every parameter."""
    glow.log_prob(torch.randn(16, *glow.event_shape), condition)
    randomize(glow, std=0.2, seed=seed)
    return glow


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"event_shape": [1, 6, 6]}, ValueError, r"divisible by 2 \*\* num_levels = 4"),
        ({"event_shape": [1, 4]}, ValueError, r"expected three positive ints \[C, H, W\]"),
        ({"event_shape": [1, 4, 4], "num_levels": 0}, ValueError, "needs at least 2 channels"),
        ({"event_shape": [1, 4, 4], "num_steps": 0}, ValueError, "num_steps: expected an int"),
        (
            {"event_shape": [1, 4, 4], "condition_shape": [2, 2, 2]},
            ValueError,
            r"image's height and width \[4, 4\], found condition_shape \[2, 2, 2\]",
        ),
        ({"event_shape": [1, 4, 4], "base": "normal"}, TypeError, "base: expected a torch"),
        (
            {
                "event_shape": [1, 4, 4],
                "base": torch.distributions.Normal(torch.zeros(4), torch.ones(4)),
            },
            ValueError,
            r"base: expected event_shape \[1, 4, 4\] and batch_shape \[\], found event_shape \[\]",
        ),
    ],
)
def test_constructor_validation(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Glow(**kwargs)


def test_invalid_input_names_shapes_and_values() -> None:
    glow = Glow([1, 4, 4], num_levels=2, num_steps=1, hidden_channels=4)
    with pytest.raises(ValueError, match=r"event_shape \(1, 4, 4\), found shape \(2, 4, 4\)"):
        glow.log_prob(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"16 non-finite \(e.g. nan\)"):
        glow.log_prob(torch.tensor(float("nan")).expand(1, 4, 4).clone())
    with pytest.raises(ValueError, match="built without condition_shape"):
        glow.log_prob(torch.zeros(1, 4, 4), torch.zeros(3))
    with pytest.raises(ValueError, match=r"sample_shape: expected non-negative ints"):
        glow.sample((-1,))
    conditional = Glow([1, 4, 4], num_levels=1, num_steps=1, condition_shape=[3])
    with pytest.raises(ValueError, match=r"condition_shape=\[3\]; expected a tensor of shape"):
        conditional.log_prob(torch.zeros(2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"condition_shape \(3,\), found shape \(2, 5\)"):
        conditional.log_prob(torch.zeros(2, 1, 4, 4), torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"would broadcast to \[2, 2\] \(every x against every"):
        conditional.log_prob(torch.zeros(2, 1, 1, 4, 4), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="condition: expected finite values"):
        conditional.sample((2,), torch.full((3,), float("inf")))


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("condition_channels", [0, 2])
def test_coupling_log_det_matches_jacobian(
    condition_channels: int, jacobian_log_det, randomize
) -> None:
    coupling = AffineCoupling(3, 8, condition_channels)
    randomize(coupling)
    x = torch.randn(1, 3, 4, 4)
    condition = torch.randn(1, 2, 4, 4) if condition_channels else None
    with torch.no_grad():
        z, log_det = coupling.normalize(x, condition)
        back, log_det_back = coupling.generate(z, condition)
    assert abs(float(log_det)) > 0.1
    expected = jacobian_log_det(lambda v: coupling.normalize(v, condition), x)
    assert abs(float(log_det) - expected) < 1e-10
    assert (back - x).abs().max() < 1e-10
    assert abs(float(log_det + log_det_back)) < 1e-10


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize(
    ("event_shape", "num_levels", "condition_shape", "condition", "learned_prior"),
    [
        ([1, 4, 4], 2, None, None, False),
        ([2, 4, 4], 1, None, None, False),
        ([2, 4, 4], 0, None, None, False),
        ([2, 4, 4], 2, [3], torch.tensor([0.5, -1.0, 2.0]), False),
        ([2, 4, 4], 2, [1, 4, 4], "map", False),
        # the learned split prior, randomised away from its zero start
        ([1, 4, 4], 2, None, None, True),
        ([1, 8, 8], 3, None, None, True),
        ([2, 4, 4], 2, [3], torch.tensor([0.5, -1.0, 2.0]), True),
        ([2, 4, 4], 2, [1, 4, 4], "map", True),
    ],
)
def test_glow_log_det_matches_jacobian_and_inverse_is_exact(
    event_shape, num_levels, condition_shape, condition, learned_prior, jacobian_log_det, randomize
) -> None:
    torch.manual_seed(0)
    if isinstance(condition, str):
        condition = torch.randn(condition_shape)
    glow = Glow(
        event_shape,
        num_levels=num_levels,
        num_steps=2,
        hidden_channels=6,
        condition_shape=condition_shape,
        learned_prior=learned_prior,
    )
    assert len(glow.split_priors) == (num_levels - 1 if learned_prior else 0)
    glow = _ready(glow, randomize, condition=condition)
    x = torch.randn(event_shape)
    with torch.no_grad():
        z, log_det = glow.normalize(x, condition)
        back, log_det_back = glow.generate(z, condition)
    assert abs(float(log_det) - jacobian_log_det(lambda v: glow.normalize(v, condition), x)) < 1e-9
    assert (back - x).abs().max() < 1e-10
    assert abs(float(log_det + log_det_back)) < 1e-10
    if condition is not None:  # the condition changes the map
        other = glow.normalize(x, condition + 1)[0]
        assert (other - z).abs().max() > 1e-3


@pytest.mark.usefixtures("float64")
def test_two_dimensional_glow_integrates_to_one(randomize) -> None:
    # event [2, 1, 1], no squeeze: a 2-D density. Midpoint rule on [-12, 12]^2, 600^2
    # points: the rule's error on this smooth, Gaussian-tailed density is far below 1e-6
    # (doubling the grid changes the sum by < 1e-9); the mass outside the box < 1e-12.
    torch.manual_seed(0)
    glow = _ready(Glow([2, 1, 1], num_levels=0, num_steps=3, hidden_channels=8), randomize)
    n, half = 600, 12.0
    h = 2 * half / n
    centres = -half + h * (torch.arange(n) + 0.5)
    grid = torch.cartesian_prod(centres, centres).reshape(-1, 2, 1, 1)
    with torch.no_grad():
        total = glow.log_prob(grid).exp().sum() * h * h
    assert abs(float(total) - 1.0) < 1e-6


@pytest.mark.usefixtures("float64")
def test_four_dimensional_glow_with_squeeze_integrates_to_one(randomize) -> None:
    # a 1-channel 2x2 image (one squeeze): a 4-D density. Midpoint rule on [-9, 9]^4 with
    # 36 points per dim (h = 0.5): for densities this smooth the error is dominated by the
    # rule (measured: changing 36 to 48 points moves the sum by < 1e-4); tolerance 2e-3.
    torch.manual_seed(1)
    glow = _ready(Glow([1, 2, 2], num_levels=1, num_steps=2, hidden_channels=8), randomize)
    n, half = 36, 9.0
    h = 2 * half / n
    centres = -half + h * (torch.arange(n) + 0.5)
    grid = torch.cartesian_prod(centres, centres, centres, centres).reshape(-1, 1, 2, 2)
    with torch.no_grad():
        total = sum(glow.log_prob(chunk).exp().sum() for chunk in grid.split(200_000)) * h**4
    assert abs(float(total) - 1.0) < 2e-3


def test_sample_shapes_and_log_prob_of_samples_finite() -> None:
    torch.manual_seed(0)
    glow = Glow([1, 8, 8], num_levels=2, num_steps=2, hidden_channels=8)
    glow.log_prob(torch.rand(8, 1, 8, 8))
    x = glow.sample((2, 3), generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, 3, 1, 8, 8)
    assert torch.isfinite(glow.log_prob(x)).all()
    assert glow.log_prob(x).shape == (2, 3)
    again = glow.sample((2, 3), generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, again)
    x, log_prob = glow.rsample_and_log_prob((4,), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(log_prob, glow.log_prob(x), atol=1e-4, rtol=1e-5)
    log_prob.sum().backward()  # rsample keeps the gradient
    assert glow.steps[0][0].coupling.net[0].weight.grad is not None


def test_conditional_sample_and_broadcast() -> None:
    glow = Glow([1, 4, 4], num_levels=1, num_steps=1, hidden_channels=4, condition_shape=[2, 4, 4])
    condition = torch.randn(5, 2, 4, 4)
    x = glow.sample((3,), condition)
    assert x.shape == (3, 5, 1, 4, 4)
    assert glow.log_prob(x, condition).shape == (3, 5)
    # one image against every condition broadcasts
    assert glow.log_prob(x[0, 0], condition).shape == (5,)


def test_user_base_and_temperature() -> None:
    base = torch.distributions.Independent(
        torch.distributions.Laplace(torch.zeros(1, 4, 4), torch.ones(1, 4, 4)), 3
    )
    glow = Glow([1, 4, 4], num_levels=1, num_steps=1, base=base)
    x = glow.sample((6,))
    z, log_det = glow.normalize(x)
    torch.testing.assert_close(glow.log_prob(x), base.log_prob(z) + log_det)
    with pytest.raises(ValueError, match="user base distribution draws with torch's global"):
        glow.sample((1,), generator=torch.Generator())
    cold = Glow([1, 4, 4], num_levels=1, num_steps=1)
    cold.log_prob(torch.rand(64, 1, 4, 4))  # initialise the ActNorms on data first
    with torch.no_grad():
        z_cold = cold.normalize(cold.sample((500,), temperature=0.5))[0]
    assert 0.45 < float(z_cold.std()) < 0.55


def test_default_base_log_prob_is_the_standard_normal() -> None:
    glow = Glow([1, 4, 4], num_levels=2, num_steps=1)
    z = torch.randn(3, 1, 4, 4)
    expected = glow.base_distribution.log_prob(z)
    torch.testing.assert_close(glow._base_log_prob(z), expected)
    by_hand = -0.5 * (z[0] ** 2).sum() - 8 * math.log(2 * math.pi)
    assert abs(float(expected[0]) - float(by_hand)) < 1e-4


def test_state_dict_resume_keeps_actnorm_init() -> None:
    torch.manual_seed(0)
    glow = Glow([1, 4, 4], num_levels=2, num_steps=2, hidden_channels=4)
    x = torch.rand(8, 1, 4, 4)
    expected = glow.log_prob(x)
    resumed = Glow([1, 4, 4], num_levels=2, num_steps=2, hidden_channels=4)
    resumed.load_state_dict(glow.state_dict())
    torch.testing.assert_close(resumed.log_prob(x * 3), glow.log_prob(x * 3))
    torch.testing.assert_close(resumed.log_prob(x), expected)


def test_learned_split_prior_changes_the_density_once_trained_away_from_zero(randomize) -> None:
    torch.manual_seed(0)
    glow = _ready(Glow([1, 8, 8], num_levels=2, num_steps=1, learned_prior=True), randomize)
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        before = glow.log_prob(x)
        for conv in glow.split_priors:
            conv.weight.zero_()
            conv.bias.zero_()
        assert (glow.log_prob(x) - before).abs().min() > 1e-3


def test_learned_split_prior_starts_as_the_plain_flow_and_is_checked() -> None:
    torch.manual_seed(0)
    plain = Glow([1, 8, 8], num_levels=2, num_steps=2, hidden_channels=8)
    prior = Glow([1, 8, 8], num_levels=2, num_steps=2, hidden_channels=8, learned_prior=True)
    missing = prior.load_state_dict(plain.state_dict(), strict=False)
    assert missing.missing_keys == ["split_priors.0.weight", "split_priors.0.bias"]
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(prior.log_prob(x), plain.log_prob(x))
    z = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(prior.generate(z)[0], plain.generate(z)[0])
    assert "split_priors.0.weight" in prior.state_dict()
    with pytest.raises(ValueError, match=r"learned_prior=True needs num_levels >= 2.*=1"):
        Glow([1, 8, 8], num_levels=1, learned_prior=True)
    with pytest.raises(TypeError, match="learned_prior: expected a bool, found int"):
        Glow([1, 8, 8], learned_prior=1)


def test_learned_split_prior_trains_to_a_better_likelihood() -> None:
    # Pixels of 2x2-block images are equal within a block, so the half of the channels
    # factored out after the first squeeze is a copy of the half that goes on: a prior
    # that conditions on it should learn that; the plain flow must model it with its
    # couplings alone. Same seed, data and steps; the learned prior ends higher
    # (measured: 36.5 against 13.1 nats per image after 150 steps).
    generator = torch.Generator().manual_seed(0)
    blocks = torch.randn(256, 1, 4, 4, generator=generator)
    data = blocks.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    data = data + 0.05 * torch.randn(data.shape, generator=generator)
    results = {}
    for learned in (False, True):
        torch.manual_seed(0)
        glow = Glow([1, 8, 8], num_levels=2, num_steps=1, hidden_channels=16,
                    learned_prior=learned)  # fmt: skip
        optimizer = torch.optim.Adam(glow.parameters(), lr=3e-3)
        for _ in range(150):
            optimizer.zero_grad()
            loss = -glow.log_prob(data).mean()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            results[learned] = float(glow.log_prob(data).mean())
    assert results[True] > results[False] + 5.0, results

"""Tests of pygen.distributions.dequantized.Dequantized."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from pygen.distributions import (
    Dequantized,
    Glow,
    UniformDequantization,
    VariationalDequantization,
)


def test_validation() -> None:
    with pytest.raises(TypeError, match="model: expected a module with log_prob and event_shape"):
        Dequantized(torch.nn.Linear(2, 2), UniformDequantization())
    with pytest.raises(TypeError, match="dequantization: expected UniformDequantization"):
        Dequantized(Glow([1, 2, 2], num_levels=1), torch.nn.Identity())
    model = Dequantized(Glow([1, 2, 2], num_levels=1, num_steps=1), UniformDequantization(4))
    with pytest.raises(ValueError, match=r"data grid k / 3 .* e.g. 0.1"):
        model.elbo(torch.full((2, 1, 2, 2), 0.1))
    with pytest.raises(ValueError, match=r"event_shape \(1, 2, 2\), found shape \(2, 1, 4, 4\)"):
        model.elbo(torch.zeros(2, 1, 4, 4))
    assert not hasattr(model, "log_prob")  # a bound only, never called log_prob


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("variational", [False, True])
def test_discrete_probabilities_sum_to_at_most_one_and_bounds_hold(
    variational: bool, randomize
) -> None:
    # Two pixels with 3 levels: every one of the 9 images. exp(iwae_k) estimates P(x)
    # from below in expectation; with the uniform dequantization, exp(elbo) summed over
    # all images is at most 1 (Jensen per image), and iwae >= elbo on average.
    torch.manual_seed(0)
    glow = Glow([2, 1, 1], num_levels=0, num_steps=2, hidden_channels=8)
    dequantization = (
        VariationalDequantization([2, 1, 1], num_bins=3, num_levels=0, num_steps=1)
        if variational
        else UniformDequantization(3)
    )
    model = Dequantized(glow, dequantization)
    images = torch.tensor(list(itertools.product([0.0, 0.5, 1.0], repeat=2))).reshape(9, 2, 1, 1)
    glow.log_prob(torch.rand(64, 2, 1, 1))
    randomize(model, std=0.1)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        elbo = torch.stack([model.elbo(images, generator=generator) for _ in range(200)]).mean(0)
        iwae = model.iwae(images, 64, generator=generator)
    assert float(torch.logsumexp(elbo, 0).exp()) <= 1.0
    assert float(torch.logsumexp(iwae, 0).exp()) <= 1.0 + 1e-2
    assert float((iwae - elbo).mean()) >= -1e-3


@pytest.mark.usefixtures("float64")
def test_uniform_elbo_is_log_density_minus_d_log_k() -> None:
    glow = Glow([1, 2, 2], num_levels=1, num_steps=1, hidden_channels=4)
    model = Dequantized(glow, UniformDequantization(256))
    x = torch.randint(0, 256, (5, 1, 2, 2)) / 255
    y, _ = UniformDequantization(256)(x, generator=torch.Generator().manual_seed(3))
    elbo = model.elbo(x, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(elbo, glow.log_prob(y) - 4 * math.log(256))


def test_samples_are_on_the_grid_and_conditional_pass_through() -> None:
    glow = Glow([1, 4, 4], num_levels=1, num_steps=1, condition_shape=[3])
    model = Dequantized(glow, UniformDequantization(16))
    condition = torch.eye(3)
    x = model.sample((2,), condition)
    assert x.shape == (2, 3, 1, 4, 4)
    assert torch.equal((x * 15).round(), x * 15)
    assert x.min() >= 0
    assert x.max() <= 1
    assert model.elbo(x, condition).shape == (2, 3)
    assert model(x[0], condition).shape == (3,)

"""Tests of pygen.distributions.variational_dequantization.VariationalDequantization."""

from __future__ import annotations

import math

import pytest
import torch

from pygen.distributions import VariationalDequantization


def test_validation() -> None:
    with pytest.raises(ValueError, match=r"expected three positive ints \[C, H, W\]"):
        VariationalDequantization([4, 4])
    dequantize = VariationalDequantization([1, 2, 2], num_bins=4, num_steps=1)
    with pytest.raises(ValueError, match=r"data grid k / 3 .* e.g. 0.5"):
        dequantize(torch.full((1, 2, 2), 0.5))
    with pytest.raises(ValueError, match=r"event_shape \(1, 2, 2\), found shape \(1, 4, 4\)"):
        dequantize(torch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match="event_ndims: expected 3"):
        dequantize(torch.zeros(1, 2, 2), event_ndims=2)


@pytest.mark.usefixtures("float64")
def test_noise_stays_in_the_bin_and_log_q_is_its_density(randomize) -> None:
    torch.manual_seed(0)
    dequantize = VariationalDequantization([1, 2, 2], num_bins=4, num_levels=1, num_steps=1)
    x = torch.randint(0, 4, (64, 1, 2, 2)) / 3
    dequantize(x)  # initialises the noise flow's ActNorms
    randomize(dequantize, std=0.2)
    y, log_q = dequantize(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.floor(y * 4), torch.round(x * 3))
    # log q(y | x) = log q_e(e | x) - log|du/de| + D log K, with u = K y - k = sigmoid(e)
    u = y * 4 - torch.round(x * 3)
    e = torch.logit(u)
    log_e = dequantize.noise.log_prob(e, condition=x - 0.5)
    log_jacobian = (torch.log(u) + torch.log1p(-u)).flatten(1).sum(1)
    torch.testing.assert_close(log_q, log_e - log_jacobian + 4 * math.log(4), atol=1e-6, rtol=0)


@pytest.mark.usefixtures("float64")
def test_noise_density_integrates_to_one_over_the_bin(randomize) -> None:
    # one 2-pixel image [2, 1, 1] (no squeeze): q(u | x) on (0, 1)^2 must integrate to 1;
    # midpoint rule with 400^2 points (error measured < 1e-4 against 800^2)
    torch.manual_seed(0)
    dequantize = VariationalDequantization(
        [2, 1, 1], num_bins=4, num_levels=0, num_steps=2, hidden_channels=8
    )
    x = torch.tensor([1 / 3, 1.0]).reshape(2, 1, 1)
    dequantize(torch.randint(0, 4, (32, 2, 1, 1)) / 3)
    randomize(dequantize, std=0.2)
    n = 400
    centres = (torch.arange(n) + 0.5) / n
    u = torch.cartesian_prod(centres, centres).reshape(-1, 2, 1, 1)
    e = torch.logit(u)
    with torch.no_grad():
        log_e = dequantize.noise.log_prob(e, condition=(x - 0.5).expand_as(e))
    log_q_u = log_e - (torch.log(u) + torch.log1p(-u)).flatten(1).sum(1)
    assert abs(float(log_q_u.exp().sum() / n**2) - 1.0) < 2e-3

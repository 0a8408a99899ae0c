"""Tests for pygen.distributions.discretized_logistic.DiscretizedLogistic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pygen.distributions import DiscretizedLogistic, Logistic

# --- argument validation -----------------------------------------------------------


def test_rejects_num_bins_below_two() -> None:
    with pytest.raises(ValueError, match="num_bins: expected an int >= 2, found 1"):
        DiscretizedLogistic(0.5, 0.1, num_bins=1)


def test_rejects_non_int_num_bins() -> None:
    with pytest.raises(TypeError, match="num_bins: expected an int, found float"):
        DiscretizedLogistic(0.5, 0.1, num_bins=256.0)  # type: ignore[arg-type]


def test_rejects_non_broadcasting_params() -> None:
    with pytest.raises(ValueError, match=r"loc \(2, 3\), scale \(4,\)"):
        DiscretizedLogistic(torch.zeros(2, 3), torch.ones(4))


def test_rejects_non_positive_scale_when_validating() -> None:
    with pytest.raises(ValueError, match="scale"):
        DiscretizedLogistic(torch.zeros(2), torch.tensor([0.1, -0.1]), validate_args=True)


def test_validation_rejects_values_off_the_grid_and_off_the_interval() -> None:
    d = DiscretizedLogistic(0.5, 0.1, validate_args=True)
    for bad in (-1 / 255, 1 + 1 / 255, 100.5 / 255):
        with pytest.raises(ValueError, match="support"):
            d.log_prob(torch.tensor(bad))
    # k / 255 computed in float32 is on the grid.
    d.log_prob(torch.arange(256, dtype=torch.float32) / 255)


def test_without_validation_off_grid_values_score_as_the_nearest_grid_point() -> None:
    d = DiscretizedLogistic(0.5, 0.1, validate_args=False)
    on_grid = d.log_prob(torch.tensor([0.0, 100 / 255, 1.0]))
    near = d.log_prob(torch.tensor([-0.3, 100.4 / 255, 1.7]))
    np.testing.assert_allclose(near.numpy(), on_grid.numpy())


# --- exactness ---------------------------------------------------------------------

EXTREME_PARAMS = [
    (0.5, 0.1),
    (0.5, 1e-4),  # all mass on two bins, the bin edge exactly at loc
    (0.3, 1e-4),
    (0.0, 1e-4),  # at the lower edge
    (1.0, 1e-4),  # at the upper edge
    (0.5 / 255, 1e-8),
    (-100.0, 1e-4),  # far left: everything in bin 0
    (1e3, 1e-4),  # far right: everything in bin 255
    (0.3, 1e3),  # nearly flat
    (1e6, 1e8),
    (-0.2, 0.02),
]


def _total_mass(d: DiscretizedLogistic) -> torch.Tensor:
    return d.log_prob(d.enumerate_support()).exp().sum(0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_masses_sum_to_one_for_extreme_params(dtype: torch.dtype) -> None:
    loc = torch.tensor([p[0] for p in EXTREME_PARAMS], dtype=dtype)
    scale = torch.tensor([p[1] for p in EXTREME_PARAMS], dtype=dtype)
    total = _total_mass(DiscretizedLogistic(loc, scale))
    np.testing.assert_allclose(total.numpy(), 1.0, rtol=0, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("num_bins", [2, 3, 16, 256])
def test_masses_sum_to_one_for_random_params(dtype: torch.dtype, num_bins: int) -> None:
    loc = torch.rand(500, dtype=dtype) * 1.6 - 0.3
    scale = torch.exp(torch.rand(500, dtype=dtype) * 16 - 12)  # 6e-6 .. 55
    d = DiscretizedLogistic(loc, scale, num_bins=num_bins)
    support = d.enumerate_support()
    assert support.shape == (num_bins, 500)
    np.testing.assert_allclose(_total_mass(d).numpy(), 1.0, rtol=0, atol=1e-5)


def test_edge_bins_take_the_open_tails() -> None:
    loc = torch.tensor([0.2, 0.9], dtype=torch.float64)
    scale = torch.tensor([0.3, 0.05], dtype=torch.float64)
    d = DiscretizedLogistic(loc, scale)
    tails = Logistic(loc, scale)
    half = 0.5 / 255
    np.testing.assert_allclose(
        d.log_prob(torch.zeros(1, dtype=torch.float64)).exp().numpy(),
        tails.cdf(torch.full((1,), half, dtype=torch.float64)).numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        d.log_prob(torch.ones(1, dtype=torch.float64)).exp().numpy(),
        1 - tails.cdf(torch.full((1,), 1 - half, dtype=torch.float64)).numpy(),
        rtol=1e-12,
    )


def _pixelcnn_pp_log_mass(
    x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor, num_bins: int
) -> torch.Tensor:
    """PixelCNN++'s published recipe (Salimans et al. 2017), rescaled to [0, 1].

    Written here from the paper's description, as an independent reference: cdf
    difference in the interior, open tails at the edges, and the log density at the
    bin centre plus log bin width where the cdf difference is below 1e-5.
    """
    half = 0.5 / (num_bins - 1)
    plus_in = (x - loc + half) / scale
    min_in = (x - loc - half) / scale
    mid_in = (x - loc) / scale
    cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
    log_pdf_mid = mid_in - torch.log(scale) - 2 * F.softplus(mid_in)
    interior = torch.where(
        cdf_delta > 1e-5,
        torch.log(cdf_delta.clamp(min=1e-300)),
        log_pdf_mid + math.log(2 * half),
    )
    left = plus_in - F.softplus(plus_in)
    right = -F.softplus(min_in)
    return torch.where(x <= 0, left, torch.where(x >= 1, right, interior))


def test_agrees_with_pixelcnn_pp_recipe() -> None:
    loc = torch.rand(200, dtype=torch.float64) * 1.4 - 0.2
    scale = torch.exp(torch.rand(200, dtype=torch.float64) * 5 - 6)  # 2.5e-3 .. 0.37
    d = DiscretizedLogistic(loc, scale)
    x = d.enumerate_support()
    ours = d.log_prob(x)
    reference = _pixelcnn_pp_log_mass(x, loc, scale, 256)
    exact_region = reference > math.log(1e-4)  # where the recipe uses the cdf difference
    # (atol: where a mass is within 1e-10 of 1, the recipe's cdf difference rounds to 1.)
    np.testing.assert_allclose(
        ours[exact_region].numpy(), reference[exact_region].numpy(), rtol=1e-8, atol=1e-9
    )
    # Where the recipe falls back to the centre density, it approximates our exact value:
    # the relative error of the midpoint rule is O((bin width / scale)^2) there.
    narrow = (scale > 0.05).expand_as(x) & (reference < math.log(1e-6))
    assert int(narrow.sum()) > 100
    np.testing.assert_allclose(ours[narrow].numpy(), reference[narrow].numpy(), atol=5e-3)


def test_underflow_region_matches_high_precision() -> None:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    loc, scale, k = 0.1, 0.01, 200  # 39 scales from the bin: mass about 1e-31
    f64 = torch.float64
    d = DiscretizedLogistic(torch.tensor(loc, dtype=f64), torch.tensor(scale, dtype=f64))
    ours = float(d.log_prob(torch.tensor(k / 255, dtype=torch.float64)))

    def sigmoid(v: object) -> object:
        return 1 / (1 + mpmath.exp(-v))

    upper = (mpmath.mpf(k) + 0.5) / 255
    lower = (mpmath.mpf(k) - 0.5) / 255
    exact = mpmath.log(sigmoid((upper - loc) / scale) - sigmoid((lower - loc) / scale))
    assert ours == pytest.approx(float(exact), rel=1e-10)


# --- gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_gradients_finite_at_the_edges(dtype: torch.dtype) -> None:
    loc = torch.tensor([0.0, 1.0, 0.5, 0.5, -5.0, 5.0, 0.5, 0.3], dtype=dtype, requires_grad=True)
    scale = torch.tensor([1e-4, 1e-4, 1e-4, 1e-8, 1e-3, 1e-3, 1e4, 0.1], dtype=dtype)
    scale.requires_grad_(True)
    d = DiscretizedLogistic(loc, scale)
    for value in (0.0, 1.0, 127 / 255, 128 / 255, 3 / 255):
        loc.grad = scale.grad = None
        log_p = d.log_prob(torch.tensor(value, dtype=dtype))
        assert bool(torch.isfinite(log_p).all()), (value, log_p)
        log_p.sum().backward()
        assert bool(torch.isfinite(loc.grad).all()), (value, loc.grad)
        assert bool(torch.isfinite(scale.grad).all()), (value, scale.grad)


def test_gradients_match_finite_differences() -> None:
    loc = torch.tensor([0.31, 0.02, 0.5], dtype=torch.float64, requires_grad=True)
    scale = torch.tensor([0.04, 0.2, 0.01], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([[0.0], [80 / 255], [128 / 255], [1.0]], dtype=torch.float64)

    def total(m: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return DiscretizedLogistic(m, s).log_prob(x).sum()

    total(loc, scale).backward()
    eps = 1e-6
    with torch.no_grad():
        for i in range(3):
            step = torch.zeros(3, dtype=torch.float64)
            step[i] = eps
            d_loc = (total(loc + step, scale) - total(loc - step, scale)) / (2 * eps)
            d_scale = (total(loc, scale + step) - total(loc, scale - step)) / (2 * eps)
            assert float(loc.grad[i]) == pytest.approx(float(d_loc), rel=1e-5)
            assert float(scale.grad[i]) == pytest.approx(float(d_scale), rel=1e-5)


# --- sampling ------------------------------------------------------------------------


def _chi_square_pvalue(counts: np.ndarray, probs: np.ndarray) -> float:
    """Chi-square goodness of fit, cells with expected count < 5 merged into one."""
    expected = probs / probs.sum() * counts.sum()
    sparse = expected < 5
    if sparse.any():
        counts = np.append(counts[~sparse], counts[sparse].sum())
        expected = np.append(expected[~sparse], expected[sparse].sum())
    return float(stats.chisquare(counts, expected).pvalue)


def test_sample_frequencies_pass_chi_square() -> None:
    # A correct sampler fails at alpha = 1e-3 once in 1000 seeds; the seed is fixed.
    d = DiscretizedLogistic(torch.tensor(0.4), torch.tensor(0.08), num_bins=16)
    n = 20_000
    x = d.sample((n,))
    assert bool(d.support.check(x).all())
    counts = torch.bincount((x * 15).round().long(), minlength=16).numpy()
    probs = d.log_prob(d.enumerate_support()).double().exp().numpy()
    assert _chi_square_pvalue(counts, probs) > 1e-3


def test_samples_from_far_away_locations_land_in_the_edge_bins() -> None:
    d = DiscretizedLogistic(torch.tensor([-3.0, 4.0]), torch.tensor([0.01, 0.01]))
    x = d.sample((100,))
    assert bool((x[:, 0] == 0).all())
    assert bool((x[:, 1] == 1).all())


# --- moments ------------------------------------------------------------------------------


def test_moments_and_entropy_are_sums_over_the_grid() -> None:
    loc = torch.tensor([0.3, -0.2, 0.7], dtype=torch.float64)
    scale = torch.tensor([0.05, 0.1, 1e-4], dtype=torch.float64)
    d = DiscretizedLogistic(loc, scale)
    grid = np.arange(256) / 255
    probs = d.log_prob(d.enumerate_support()).exp().numpy()
    mean = (grid[:, None] * probs).sum(0)
    np.testing.assert_allclose(d.mean.numpy(), mean)
    np.testing.assert_allclose(d.variance.numpy(), ((grid[:, None] - mean) ** 2 * probs).sum(0))
    np.testing.assert_allclose(d.mode.numpy(), grid[probs.argmax(0)])
    np.testing.assert_allclose(d.entropy().numpy(), stats.entropy(probs, axis=0))
    assert d.mode[1] == 0  # loc left of the interval: the left tail bin
    # A far-left location puts the mass on 0: mean 0, zero entropy.
    far = DiscretizedLogistic(torch.tensor(-50.0), torch.tensor(0.01))
    assert float(far.mean) == 0.0
    assert float(far.entropy()) == pytest.approx(0.0, abs=1e-6)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    loc=st.floats(-2.0, 3.0),
    log_scale=st.floats(-12.0, 6.0),
    num_bins=st.sampled_from([2, 5, 256]),
    batch=st.lists(st.integers(1, 3), max_size=2),
    float64=st.booleans(),
)
def test_normalised_with_finite_gradients(
    loc: float, log_scale: float, num_bins: int, batch: list[int], float64: bool
) -> None:
    dtype = torch.float64 if float64 else torch.float32
    loc_t = torch.full(batch, loc, dtype=dtype, requires_grad=True)
    scale_t = torch.full(batch, math.exp(log_scale), dtype=dtype, requires_grad=True)
    d = DiscretizedLogistic(loc_t, scale_t, num_bins=num_bins)
    log_p = d.log_prob(d.enumerate_support())
    assert log_p.shape == (num_bins, *batch)
    assert bool(torch.isfinite(log_p).all())
    np.testing.assert_allclose(log_p.exp().sum(0).detach().numpy(), 1.0, atol=1e-5)
    log_p.sum().backward()
    assert bool(torch.isfinite(loc_t.grad).all())
    assert bool(torch.isfinite(scale_t.grad).all())
    assert d.sample((3,)).shape == (3, *batch)

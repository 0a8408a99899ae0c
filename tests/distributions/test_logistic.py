"""Tests for pygen.distributions.logistic.Logistic (reference: scipy.stats.logistic)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pygen.distributions import Logistic


def assert_close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Compare tensors with numpy (torch.testing's first call imports for seconds)."""
    np.testing.assert_allclose(
        actual.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )


# --- argument validation -----------------------------------------------------------


def test_rejects_non_numeric_loc() -> None:
    with pytest.raises(TypeError, match="loc: expected a floating-point tensor or a number"):
        Logistic("zero", 1.0)  # type: ignore[arg-type]


def test_rejects_integer_tensor_scale() -> None:
    with pytest.raises(TypeError, match=r"scale: expected a floating-point tensor, found dtype"):
        Logistic(0.0, torch.tensor([1, 2]))


def test_rejects_non_broadcasting_params() -> None:
    with pytest.raises(ValueError, match=r"loc \(2,\), scale \(3,\)"):
        Logistic(torch.zeros(2), torch.ones(3))


def test_rejects_non_positive_scale_when_validating() -> None:
    with pytest.raises(ValueError, match="scale"):
        Logistic(torch.zeros(2), torch.tensor([1.0, 0.0]), validate_args=True)
    Logistic(torch.zeros(2), torch.tensor([1.0, 0.0]), validate_args=False)


def test_icdf_rejects_probabilities_outside_unit_interval() -> None:
    d = Logistic(0.0, 1.0, validate_args=True)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*1.5"):
        d.icdf(torch.tensor([0.5, 1.5]))


def test_numbers_become_scalar_tensors() -> None:
    d = Logistic(1.0, 2.0)
    assert d.batch_shape == ()
    assert d.loc.dtype == torch.get_default_dtype()


# --- values against scipy ------------------------------------------------------------

LOC = torch.tensor([-1.0, 0.0, 2.5], dtype=torch.float64)
SCALE = torch.tensor([0.3, 1.0, 4.0], dtype=torch.float64)
X = torch.tensor([[-3.0], [0.0], [0.7], [10.0]], dtype=torch.float64)


def test_log_prob_cdf_icdf_match_scipy() -> None:
    d = Logistic(LOC, SCALE)
    ref = stats.logistic(loc=LOC.numpy(), scale=SCALE.numpy())
    np.testing.assert_allclose(d.log_prob(X).numpy(), ref.logpdf(X.numpy()), rtol=1e-12)
    np.testing.assert_allclose(d.cdf(X).numpy(), ref.cdf(X.numpy()), rtol=1e-12)
    p = torch.tensor([[0.01], [0.5], [0.97]], dtype=torch.float64)
    np.testing.assert_allclose(d.icdf(p).numpy(), ref.ppf(p.numpy()), rtol=1e-12)


def test_moments_and_entropy_match_scipy() -> None:
    d = Logistic(LOC, SCALE)
    ref = stats.logistic(loc=LOC.numpy(), scale=SCALE.numpy())
    np.testing.assert_allclose(d.mean.numpy(), ref.mean())
    np.testing.assert_allclose(d.mode.numpy(), LOC.numpy())
    np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-12)
    np.testing.assert_allclose(d.stddev.numpy(), ref.std(), rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), ref.entropy(), rtol=1e-12)


def test_icdf_ends_are_infinite() -> None:
    d = Logistic(0.0, 1.0)
    assert d.icdf(torch.tensor([0.0, 1.0])).tolist() == [-math.inf, math.inf]


# --- numerical stability -------------------------------------------------------------


def test_log_prob_finite_far_in_the_tails_float32() -> None:
    loc = torch.zeros(1, requires_grad=True)
    scale = torch.full((1,), 1e-3, requires_grad=True)
    x = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4])  # |z| up to 1e7
    log_p = Logistic(loc, scale).log_prob(x)
    assert bool(torch.isfinite(log_p).all())
    # Far in the tails log p = -|z| - log(scale) to float32 precision.
    z = x / 1e-3
    assert_close(log_p[[0, -1]], -z[[0, -1]].abs() - math.log(1e-3))
    log_p.sum().backward()
    assert bool(torch.isfinite(loc.grad).all())
    assert bool(torch.isfinite(scale.grad).all())


# --- sampling ---------------------------------------------------------------------------


def test_samples_pass_ks_test_against_cdf() -> None:
    # A correct sampler fails this at alpha = 1e-3 once in 1000 seeds; the seed is fixed.
    d = Logistic(torch.tensor(1.5, dtype=torch.float64), torch.tensor(0.7, dtype=torch.float64))
    x = d.sample((5000,))
    result = stats.kstest(x.numpy(), lambda v: d.cdf(torch.from_numpy(v)).numpy())
    assert result.pvalue > 1e-3


def test_rsample_is_reparameterised() -> None:
    loc = torch.tensor([0.5, -1.0], requires_grad=True)
    scale = torch.tensor([2.0, 0.1], requires_grad=True)
    x = Logistic(loc, scale).rsample((7,))
    assert x.requires_grad
    x.sum().backward()
    assert_close(loc.grad, torch.full((2,), 7.0))
    z = (x.detach() - loc.detach()) / scale.detach()
    assert_close(scale.grad, z.sum(0))


def test_sample_carries_no_gradient() -> None:
    loc = torch.zeros(2, requires_grad=True)
    assert not Logistic(loc, 1.0).sample((3,)).requires_grad


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    loc=st.floats(-50, 50),
    log_scale=st.floats(-6, 4),
    z=st.floats(-30, 30),
    batch=st.lists(st.integers(1, 3), max_size=2),
)
def test_log_prob_matches_scipy_and_cdf_inverts(
    loc: float, log_scale: float, z: float, batch: list[int]
) -> None:
    scale = math.exp(log_scale)
    d = Logistic(
        torch.full(batch, loc, dtype=torch.float64), torch.full(batch, scale, dtype=torch.float64)
    )
    x = torch.tensor(loc + z * scale, dtype=torch.float64)
    log_p = d.log_prob(x)
    assert log_p.shape == tuple(batch)
    expected = stats.logistic.logpdf(x.item(), loc=loc, scale=scale)
    np.testing.assert_allclose(log_p.numpy(), expected, rtol=1e-9, atol=1e-9)
    p = torch.tensor(0.2 + 0.6 * (z + 30) / 60, dtype=torch.float64)
    np.testing.assert_allclose(d.cdf(d.icdf(p)).numpy(), p.item(), rtol=1e-9)

"""Tests for pygen.distributions.discretized_logistic_mixture.DiscretizedLogisticMixture."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from torch.distributions import Categorical, MixtureSameFamily

from pygen.distributions import DiscretizedLogistic, DiscretizedLogisticMixture

# --- argument validation -----------------------------------------------------------


def test_rejects_non_tensor_params() -> None:
    with pytest.raises(TypeError, match=r"logits: expected a torch\.Tensor, found list"):
        DiscretizedLogisticMixture([0.0, 0.0], torch.zeros(2), torch.ones(2))  # type: ignore[arg-type]


def test_rejects_integer_params() -> None:
    with pytest.raises(TypeError, match="scale: expected a floating-point tensor, found dtype"):
        DiscretizedLogisticMixture(torch.zeros(2), torch.zeros(2), torch.ones(2, dtype=torch.int32))


def test_rejects_scalar_params() -> None:
    with pytest.raises(ValueError, match=r"logits: expected at least one dim .* found shape \(\)"):
        DiscretizedLogisticMixture(torch.tensor(0.0), torch.zeros(2), torch.ones(2))


def test_rejects_non_broadcasting_params() -> None:
    with pytest.raises(ValueError, match=r"logits \(4, 3\), loc \(4, 2\), scale \(3,\)"):
        DiscretizedLogisticMixture(torch.zeros(4, 3), torch.zeros(4, 2), torch.ones(3))


def test_rejects_non_positive_scale_when_validating() -> None:
    with pytest.raises(ValueError, match="scale"):
        DiscretizedLogisticMixture(
            torch.zeros(2), torch.zeros(2), torch.tensor([0.1, 0.0]), validate_args=True
        )


def test_params_broadcast_and_batch_shape_drops_the_component_dim() -> None:
    d = DiscretizedLogisticMixture(torch.zeros(5), torch.rand(2, 3, 5), torch.tensor([0.1]))
    assert d.batch_shape == (2, 3)
    assert d.num_components == 5
    assert d.logits.shape == d.loc.shape == d.scale.shape == (2, 3, 5)
    assert d.mixture_distribution.batch_shape == (2, 3)
    assert d.component_distribution.batch_shape == (2, 3, 5)


# --- exactness ---------------------------------------------------------------------


def _total_mass(d: DiscretizedLogisticMixture) -> torch.Tensor:
    return d.log_prob(d.enumerate_support()).exp().sum(0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_masses_sum_to_one_for_random_and_extreme_params(dtype: torch.dtype) -> None:
    batch, k = 200, 4
    logits = torch.randn(batch, k, dtype=dtype) * 20
    logits[:50] = torch.tensor([50.0, -50.0, -50.0, 50.0], dtype=dtype)
    loc = torch.rand(batch, k, dtype=dtype) * 1.6 - 0.3
    loc[50:60] = torch.tensor([-1e3, 1e3, 0.0, 1.0], dtype=dtype)
    scale = torch.exp(torch.rand(batch, k, dtype=dtype) * 16 - 12)
    scale[60:70] = 1e-4
    d = DiscretizedLogisticMixture(logits, loc, scale)
    np.testing.assert_allclose(_total_mass(d).numpy(), 1.0, rtol=0, atol=1e-5)


def test_equals_the_weighted_sum_of_component_masses() -> None:
    logits = torch.randn(3, 4, dtype=torch.float64)
    loc = torch.rand(3, 4, dtype=torch.float64)
    scale = torch.rand(3, 4, dtype=torch.float64) * 0.1 + 0.01
    d = DiscretizedLogisticMixture(logits, loc, scale, num_bins=32)
    x = d.enumerate_support()  # (32, 3)
    component = DiscretizedLogistic(loc, scale, num_bins=32).log_prob(x.unsqueeze(-1)).exp()
    expected = (torch.softmax(logits, -1) * component).sum(-1)
    np.testing.assert_allclose(d.log_prob(x).exp().numpy(), expected.numpy(), rtol=1e-12)


def test_matches_torch_mixture_same_family() -> None:
    logits, loc = torch.randn(6, 3), torch.rand(6, 3)
    scale = torch.rand(6, 3) * 0.1 + 0.01
    ours = DiscretizedLogisticMixture(logits, loc, scale)
    torch_mixture = MixtureSameFamily(Categorical(logits=logits), DiscretizedLogistic(loc, scale))
    x = ours.sample((10,))
    np.testing.assert_allclose(
        ours.log_prob(x).numpy(), torch_mixture.log_prob(x).numpy(), rtol=1e-5, atol=1e-6
    )


def test_one_component_is_a_discretized_logistic() -> None:
    loc, scale = torch.rand(5, 1), torch.rand(5, 1) * 0.2 + 0.001
    mixture = DiscretizedLogisticMixture(torch.randn(5, 1), loc, scale)
    single = DiscretizedLogistic(loc.squeeze(-1), scale.squeeze(-1))
    x = single.enumerate_support()
    np.testing.assert_allclose(mixture.log_prob(x).numpy(), single.log_prob(x).numpy(), atol=1e-6)
    np.testing.assert_allclose(mixture.mean.numpy(), single.mean.numpy(), atol=1e-6)


# --- gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_gradients_finite_at_the_edges(dtype: torch.dtype) -> None:
    logits = torch.tensor([[50.0, -50.0, 0.0], [-50.0, -50.0, 50.0]], dtype=dtype)
    loc = torch.tensor([[0.0, 1.0, 0.5], [-3.0, 4.0, 0.5]], dtype=dtype)
    scale = torch.tensor([[1e-4, 1e-4, 1e-8], [1e-3, 1e-4, 1e3]], dtype=dtype)
    params = [p.requires_grad_(True) for p in (logits, loc, scale)]
    for value in (0.0, 1.0, 127 / 255, 128 / 255):
        for p in params:
            p.grad = None
        d = DiscretizedLogisticMixture(*params)  # logits are normalised in the graph
        log_p = d.log_prob(torch.tensor(value, dtype=dtype))
        assert bool(torch.isfinite(log_p).all()), (value, log_p)
        log_p.sum().backward()
        for name, p in zip(("logits", "loc", "scale"), params, strict=True):
            assert bool(torch.isfinite(p.grad).all()), (value, name, p.grad)


# --- sampling ------------------------------------------------------------------------


def test_sample_frequencies_pass_chi_square() -> None:
    # A correct sampler fails at alpha = 1e-3 once in 1000 seeds; the seed is fixed.
    logits = torch.tensor([0.0, math.log(3.0), -1.0])
    loc = torch.tensor([0.15, 0.55, 0.95])
    scale = torch.tensor([0.03, 0.1, 0.02])
    d = DiscretizedLogisticMixture(logits, loc, scale, num_bins=32)
    n = 20_000
    x = d.sample((n,))
    assert bool(d.support.check(x).all())
    counts = torch.bincount((x * 31).round().long(), minlength=32).numpy()
    probs = d.log_prob(d.enumerate_support()).double().exp().numpy()
    expected = probs / probs.sum() * n
    sparse = expected < 5  # merge cells too sparse for the chi-square approximation
    if sparse.any():
        counts = np.append(counts[~sparse], counts[sparse].sum())
        expected = np.append(expected[~sparse], expected[sparse].sum())
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_sample_picks_components_by_weight() -> None:
    # Two components far apart: the share of samples at 0 is the first weight.
    d = DiscretizedLogisticMixture(
        torch.tensor([math.log(0.25), math.log(0.75)]),
        torch.tensor([-5.0, 5.0]),
        torch.tensor([0.01, 0.01]),
    )
    x = d.sample((4000,))
    assert set(x.unique().tolist()) == {0.0, 1.0}
    share = float((x == 0).double().mean())
    assert share == pytest.approx(0.25, abs=0.03)  # 4.4 standard errors


# --- moments ------------------------------------------------------------------------------


def test_moments_are_sums_over_the_grid() -> None:
    d = DiscretizedLogisticMixture(
        torch.tensor([[0.0, 1.0]], dtype=torch.float64),
        torch.tensor([[0.2, 0.8]], dtype=torch.float64),
        torch.tensor([[0.05, 0.05]], dtype=torch.float64),
    )
    grid = np.arange(256) / 255
    probs = d.log_prob(d.enumerate_support()).exp().numpy()[:, 0]
    mean = (grid * probs).sum()
    assert float(d.mean[0]) == pytest.approx(mean)
    assert float(d.variance[0]) == pytest.approx(((grid - mean) ** 2 * probs).sum())
    assert float(d.mode[0]) == pytest.approx(grid[probs.argmax()])
    assert float(d.mode[0]) == pytest.approx(204 / 255)  # the heavier component's peak
    assert float(d.entropy()[0]) == pytest.approx(stats.entropy(probs))


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    k=st.integers(1, 4),
    logit_scale=st.floats(0.0, 60.0),
    log_scale_low=st.floats(-12.0, 2.0),
    num_bins=st.sampled_from([2, 7, 256]),
    seed=st.integers(0, 2**16),
)
def test_normalised_with_finite_gradients(
    batch: list[int],
    k: int,
    logit_scale: float,
    log_scale_low: float,
    num_bins: int,
    seed: int,
) -> None:
    generator = torch.Generator().manual_seed(seed)
    shape = (*batch, k)
    logits = (torch.randn(shape, generator=generator) * logit_scale).requires_grad_(True)
    loc = (torch.rand(shape, generator=generator) * 3 - 1).requires_grad_(True)
    log_scale = log_scale_low + 3 * torch.rand(shape, generator=generator)
    scale = log_scale.exp().requires_grad_(True)
    d = DiscretizedLogisticMixture(logits, loc, scale, num_bins=num_bins)
    assert d.batch_shape == tuple(batch)
    log_p = d.log_prob(d.enumerate_support())
    assert bool(torch.isfinite(log_p).all())
    np.testing.assert_allclose(log_p.exp().sum(0).detach().numpy(), 1.0, atol=1e-5)
    log_p.sum().backward()
    for p in (logits, loc, scale):
        assert bool(torch.isfinite(p.grad).all())
    assert d.sample((2,)).shape == (2, *batch)

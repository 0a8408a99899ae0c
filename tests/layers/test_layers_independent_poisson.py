"""pygen.layers.independent_poisson.IndependentPoisson."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import IndependentPoisson


def test_event_shape_validated() -> None:
    with pytest.raises(TypeError, match="event_shape"):
        IndependentPoisson({3})  # type: ignore[arg-type]


def test_params_are_log_rates() -> None:
    params = torch.randn(4, 3)
    d = IndependentPoisson(3)(params)
    torch.testing.assert_close(d.mean, params.exp())


def test_non_integer_counts_fail_validation() -> None:
    d = IndependentPoisson(2)(torch.zeros(2))
    with pytest.raises(ValueError, match="support"):
        d.log_prob(torch.tensor([0.5, 1.0]))


def test_large_log_rate_gives_the_limit_never_nan() -> None:
    # exp(100) overflows float32; the log-probability is computed from the log-rate.
    log_rate = torch.tensor([[100.0, 80.0, 0.0]])
    d = IndependentPoisson([3])(log_rate)
    counts = torch.tensor([[3.0, 0.0, 2.0]])
    log_p = d.base_dist.log_prob(counts)
    assert not torch.isnan(log_p).any()
    assert log_p[0, 0] == -float("inf")
    expected = (
        counts[0, 1:] * log_rate[0, 1:] - log_rate[0, 1:].exp() - torch.lgamma(counts[0, 1:] + 1)
    )
    torch.testing.assert_close(log_p[0, 1:], expected)
    float64 = IndependentPoisson([3])(log_rate.double()).log_prob(counts.double())
    assert torch.isfinite(float64).all()
    expanded = IndependentPoisson()(torch.tensor([100.0])).expand((4,))
    assert (expanded.log_prob(torch.zeros(4)) == -float("inf")).all()

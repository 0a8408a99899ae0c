"""pygen.layers.independent_quantized_distribution.IndependentQuantizedDistribution."""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td

from pygen.layers import IndependentQuantizedDistribution


def test_arguments_validated() -> None:
    with pytest.raises(ValueError, match="num_buckets"):
        IndependentQuantizedDistribution([1, 4, 4], num_buckets=0)
    with pytest.raises(TypeError, match="event_shape"):
        IndependentQuantizedDistribution(None)  # type: ignore[arg-type]


def test_params_size_default_eight_buckets() -> None:
    assert IndependentQuantizedDistribution.params_size([1, 28, 28]) == 8 * 784
    assert IndependentQuantizedDistribution([1, 28, 28]).num_buckets == 8


def test_log_prob_is_the_categorical_log_mass_of_the_bucket() -> None:
    k, event = 5, (2, 3, 3)
    params = torch.randn(4, k * 2, 3, 3)  # channel-first convolution output
    d = IndependentQuantizedDistribution(event, num_buckets=k)(params)
    x = torch.rand(4, *event)
    x[0, 0, 0, 0] = 1.0  # the top edge belongs to the top bucket
    logits = params.unflatten(1, (2, k)).movedim(2, -1)  # channel c's buckets: c*K .. c*K+K-1
    buckets = torch.floor(x * k).clamp(max=k - 1).long()
    expected = td.Categorical(logits=logits).log_prob(buckets).sum((-3, -2, -1))
    torch.testing.assert_close(d.log_prob(x), expected)


def test_flat_logits_are_read_element_by_element_as_in_the_original() -> None:
    # Event [3], 8 buckets, channel c's mass at position c * 8 + b: the original pygen
    # gives log-likelihood 0 for values in those buckets.
    buckets = torch.tensor([1, 5, 7])
    logits = torch.full((1, 24), -1e4)
    logits[0, torch.arange(3) * 8 + buckets] = 0.0
    layer = IndependentQuantizedDistribution([3], num_buckets=8)
    assert layer.params_size() == 24
    d = layer(logits)
    x = ((buckets + torch.rand(3)) / 8).unsqueeze(0)
    assert d.log_prob(x).tolist() == [0.0]
    assert d.log_prob(((buckets + 1) % 8 / 8).unsqueeze(0)).item() < -1e3


def test_samples_lie_in_the_unit_interval() -> None:
    d = IndependentQuantizedDistribution([1, 4, 4], num_buckets=3)(torch.randn(6, 48))
    x = d.sample((2,))
    assert x.shape == (2, 6, 1, 4, 4)
    assert bool(((x >= 0) & (x <= 1)).all())

"""pygen.layers.independent_bernoulli.IndependentBernoulli."""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td
from torch import nn

from pygen.layers import IndependentBernoulli


def test_event_shape_validated() -> None:
    with pytest.raises(TypeError, match="event_shape"):
        IndependentBernoulli("28")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="event_shape"):
        IndependentBernoulli([1, 0, 28])


def test_params_size() -> None:
    assert IndependentBernoulli.params_size([1, 28, 28]) == 784
    assert IndependentBernoulli.params_size(5) == 5


def test_convolution_output_feeds_the_layer_directly() -> None:
    logits = torch.randn(4, 1, 28, 28)
    d = IndependentBernoulli([1, 28, 28])(logits)
    reference = td.Independent(td.Bernoulli(logits=logits), 3)
    x = reference.sample()
    torch.testing.assert_close(d.log_prob(x), reference.log_prob(x))
    flat = IndependentBernoulli([1, 28, 28])(logits.reshape(4, 784))
    torch.testing.assert_close(flat.log_prob(x), reference.log_prob(x))


def test_conv_net_in_sequential() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))
    d = nn.Sequential(net, IndependentBernoulli([2, 6, 6]))(torch.randn(5, 3, 6, 6))
    assert d.batch_shape == (5,)
    assert d.event_shape == (2, 6, 6)


def test_channel_last_logits_raise() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 12\] \(flat\) or \[\*batch, 3, 2, 2\]"):
        IndependentBernoulli([3, 2, 2])(torch.randn(4, 2, 2, 3))


def test_grey_level_values_fail_validation() -> None:
    d = IndependentBernoulli([2])(torch.zeros(2))
    with pytest.raises(ValueError, match="support"):
        d.log_prob(torch.tensor([0.5, 1.0]))


def test_value_with_wrong_event_shape_raises() -> None:
    d = IndependentBernoulli([1, 4, 4])(torch.zeros(3, 16))
    with pytest.raises(ValueError, match="event_shape"):
        d.log_prob(torch.zeros(3, 4, 4))


def test_params_size_on_an_instance_as_in_the_original() -> None:
    # The original and every model built on it call params_size() on the instance.
    assert IndependentBernoulli([1]).params_size() == 1
    assert IndependentBernoulli([1, 28, 28]).params_size() == 784
    assert IndependentBernoulli.params_size([1, 28, 28]) == 784  # TFP's static form
    assert IndependentBernoulli([1]).params_size([2, 3]) == 6


def test_scalar_event_refuses_an_n_by_1_value() -> None:
    d = IndependentBernoulli([])(torch.randn(4, 1))
    assert isinstance(d, torch.distributions.Bernoulli)
    with pytest.raises(ValueError, match=r"Bernoulli.log_prob: value has shape \[4, 1\]"):
        d.log_prob(torch.ones(4, 1))

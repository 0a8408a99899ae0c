"""pygen.layers.independent_logistic.IndependentLogistic."""

from __future__ import annotations

import pytest
import torch
from torch.nn.functional import softplus

from pygen.distributions.logistic import Logistic
from pygen.layers import IndependentLogistic


def test_event_shape_validated() -> None:
    with pytest.raises(ValueError, match="event_shape"):
        IndependentLogistic([0])


def test_params_size() -> None:
    assert IndependentLogistic.params_size([5]) == 10


def test_first_block_is_loc_second_is_softplus_scale() -> None:
    params = torch.randn(3, 10)
    d = IndependentLogistic(5)(params)
    assert isinstance(d.base_dist, Logistic)
    torch.testing.assert_close(d.base_dist.loc, params[:, :5])
    torch.testing.assert_close(d.base_dist.scale, softplus(params[:, 5:]))


def test_channel_first_equals_flat() -> None:
    params = torch.randn(2, 4, 3, 3)
    x = torch.randn(2, 2, 3, 3)
    shaped = IndependentLogistic([2, 3, 3])(params).log_prob(x)
    flat = IndependentLogistic([2, 3, 3])(params.reshape(2, -1)).log_prob(x)
    torch.testing.assert_close(shaped, flat)


def test_log_prob_stays_finite_far_in_the_tails() -> None:
    d = IndependentLogistic(2)(torch.tensor([0.0, 0.0, -5.0, -5.0]))
    assert torch.isfinite(d.log_prob(torch.tensor([1e3, -1e3])))

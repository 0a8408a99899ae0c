"""pygen.layers.independent_normal.IndependentNormal."""

from __future__ import annotations

import pytest
import torch
from torch.nn.functional import softplus

from pygen.layers import IndependentNormal


def test_event_shape_validated() -> None:
    with pytest.raises(TypeError, match="event_shape"):
        IndependentNormal(2.0)  # type: ignore[arg-type]


def test_params_size() -> None:
    assert IndependentNormal.params_size() == 2
    assert IndependentNormal.params_size([3, 4, 4]) == 96


def test_first_channel_block_is_loc_second_is_softplus_scale() -> None:
    params = torch.randn(2, 6, 4, 4)  # [B, 2C, H, W] for event [3, 4, 4]
    d = IndependentNormal([3, 4, 4])(params)
    assert d.event_shape == (3, 4, 4)
    torch.testing.assert_close(d.mean, params[:, :3])
    torch.testing.assert_close(d.stddev, softplus(params[:, 3:]))


def test_scalar_event_gives_a_plain_normal() -> None:
    d = IndependentNormal()(torch.tensor([[0.0, 0.0], [1.0, 2.0]]))
    assert isinstance(d, torch.distributions.Normal)
    assert d.batch_shape == (2,)
    torch.testing.assert_close(d.mean, torch.tensor([0.0, 1.0]))

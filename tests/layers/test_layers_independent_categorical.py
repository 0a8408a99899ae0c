"""pygen.layers.independent_categorical.IndependentCategorical."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import IndependentCategorical


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"event_shape": [2], "num_classes": 0}, ValueError),
        ({"event_shape": [2], "num_classes": 2.0}, TypeError),
        ({"event_shape": "2", "num_classes": 2}, TypeError),
    ],
)
def test_arguments_validated(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        IndependentCategorical(**kwargs)  # type: ignore[arg-type]


def test_params_size() -> None:
    assert IndependentCategorical.params_size([3, 8, 8], 4) == 768


def test_channel_blocks_hold_the_logits_of_one_class() -> None:
    num_classes, channels = 4, 3
    params = torch.full((2, num_classes * channels, 5, 5), -30.0)
    params[:, 2 * channels : 3 * channels] = 30.0  # class 2 for every element
    d = IndependentCategorical([channels, 5, 5], num_classes)(params)
    assert d.batch_shape == (2,)
    assert torch.equal(d.sample(), torch.full((2, channels, 5, 5), 2))


def test_mismatch_raises_with_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 8\].*got \[3, 9\]"):
        IndependentCategorical([2], 4)(torch.randn(3, 9))

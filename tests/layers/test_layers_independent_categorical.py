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


def test_params_size_on_an_instance_as_in_the_original() -> None:
    assert IndependentCategorical([3, 8, 8], 4).params_size() == 768
    assert IndependentCategorical([3, 8, 8], 4).params_size([2], 5) == 10


def test_flat_logits_are_read_element_by_element_as_in_the_original() -> None:
    # The original pygen reshapes [*B, prod(E) * K] to [*B, *E, K]: element 0's logits are
    # positions 0..2, element 1's are 3..5. Its most likely classes are [[2, 0]].
    d = IndependentCategorical(event_shape=[2], num_classes=3)(
        torch.tensor([[0.0, 0.0, 10.0, 10.0, 0.0, 0.0]])
    )
    assert d.mode.tolist() == [[2, 0]]
    log_p = d.log_prob(torch.tensor([[2, 0]]))
    expected = 2 * (10 - torch.log(torch.tensor(2.0) + torch.tensor(10.0).exp()))
    torch.testing.assert_close(log_p, expected.reshape(1))


def test_flat_layout_for_an_image_event() -> None:
    # Element (c, h, w) of a [2, 2, 2] event reads positions ((c*2 + h)*2 + w)*K + j.
    k = 3
    wanted = torch.tensor([[[0, 1], [2, 0]], [[1, 1], [2, 2]]])
    params = torch.full((1, 8 * k), -20.0)
    params[0, torch.arange(8) * k + wanted.flatten()] = 20.0
    d = IndependentCategorical([2, 2, 2], k)(params)
    assert torch.equal(d.mode[0], wanted)


def test_channel_first_reads_each_channels_classes_as_a_block_of_channels() -> None:
    # Channel-first [*B, C * K, H, W]: channels c*K .. c*K + K - 1 are channel c's logits.
    num_classes, channels = 4, 3
    params = torch.full((2, channels * num_classes, 5, 5), -30.0)
    wanted = torch.tensor([2, 0, 3])
    params[:, torch.arange(channels) * num_classes + wanted] = 30.0
    d = IndependentCategorical([channels, 5, 5], num_classes)(params)
    assert d.batch_shape == (2,)
    assert torch.equal(d.sample(), wanted.reshape(1, 3, 1, 1).expand(2, 3, 5, 5))


def test_mismatch_raises_with_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 8\].*got \[3, 9\]"):
        IndependentCategorical([2], 4)(torch.randn(3, 9))

"""The shared parameter layout rule (pygen.layers._params), seen through the layers."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import IndependentBernoulli, IndependentNormal
from pygen.layers._params import as_event_shape, check_positive_int, reshape_params


@pytest.mark.parametrize("bad", [1.0, "3", [2, "a"], None, [2, True]])
def test_event_shape_of_wrong_kind_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="event_shape"):
        as_event_shape(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, [2, 0], (-1,)])
def test_event_shape_with_non_positive_size_raises_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="event_shape must contain only positive sizes"):
        as_event_shape(bad)  # type: ignore[arg-type]


def test_event_shape_accepts_int_list_tuple_and_size() -> None:
    assert as_event_shape(3) == torch.Size([3])
    assert as_event_shape([1, 28, 28]) == torch.Size([1, 28, 28])
    assert as_event_shape(torch.Size([2, 2])) == torch.Size([2, 2])
    assert as_event_shape(()) == torch.Size([])


@pytest.mark.parametrize(("bad", "error"), [(True, TypeError), (2.0, TypeError), (0, ValueError)])
def test_check_positive_int(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="num_classes"):
        check_positive_int(bad, "num_classes")


def test_params_that_are_not_tensors_raise_type_error() -> None:
    with pytest.raises(TypeError, match=r"params must be a torch.Tensor, got list"):
        IndependentBernoulli(3)([0.0, 1.0, 2.0])  # type: ignore[arg-type]


def test_flat_and_channel_first_layouts_read_the_same_numbers() -> None:
    event = torch.Size([3, 4, 5])
    shaped = torch.randn(2, 2 * 3, 4, 5)
    from_shaped = reshape_params(shaped, event, 2, "layer")
    from_flat = reshape_params(shaped.reshape(2, -1), event, 2, "layer")
    assert from_shaped.shape == (2, 2, 3, 4, 5)
    torch.testing.assert_close(from_shaped, from_flat)
    # parameter j of channel c is channel j * C + c of the convolution output
    torch.testing.assert_close(from_shaped[:, 1, 2], shaped[:, 1 * 3 + 2])


def test_channel_first_params_need_not_be_contiguous() -> None:
    channel_last = torch.randn(2, 4, 5, 6)  # [B, H, W, 2C] from some other code
    layer = IndependentNormal([3, 4, 5])
    d = layer(channel_last.permute(0, 3, 1, 2))
    torch.testing.assert_close(d.mean, channel_last.permute(0, 3, 1, 2)[:, :3])


def test_channel_last_params_raise_naming_both_accepted_shapes() -> None:
    layer = IndependentNormal([3, 4, 5])
    with pytest.raises(
        ValueError,
        match=r"\[\*batch, 120\] \(flat\) or \[\*batch, 6, 4, 5\] "
        r"\(channel-first\), got \[2, 4, 5, 6\]",
    ):
        layer(torch.randn(2, 4, 5, 6))


def test_channel_first_reading_wins_when_both_layouts_fit() -> None:
    # event [1, 4] with k = 1: [B, 1, 4] is channel-first with batch [B]
    params = torch.randn(5, 1, 4)
    d = IndependentBernoulli([1, 4])(params)
    assert d.batch_shape == (5,)


def test_params_are_never_broadcast() -> None:
    with pytest.raises(ValueError, match=r"got \[2, 1, 28\]"):
        IndependentBernoulli([1, 28, 28])(torch.randn(2, 1, 28))


def test_value_with_wrong_trailing_dims_is_refused_not_broadcast() -> None:
    d = IndependentNormal([1, 4, 4])(torch.randn(3, 32))
    with pytest.raises(
        ValueError, match=r"event_shape \[1, 4, 4\], got value of shape \[3, 4, 4\]"
    ):
        d.log_prob(torch.zeros(3, 4, 4))  # plain Independent would return shape [3]
    assert d.log_prob(torch.zeros(2, 3, 1, 4, 4)).shape == (2, 3)
    expanded = d.expand((5, 3))
    assert isinstance(expanded, torch.distributions.Independent)
    with pytest.raises(ValueError, match="event_shape"):
        expanded.log_prob(torch.zeros(5, 3, 4, 4))

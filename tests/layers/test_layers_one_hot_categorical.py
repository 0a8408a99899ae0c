"""pygen.layers.one_hot_categorical.OneHotCategorical."""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td

from pygen.layers import OneHotCategorical


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), ([3], TypeError)])
def test_event_size_validated(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="event_size"):
        OneHotCategorical(bad)  # type: ignore[arg-type]


def test_logits_pass_through_unchanged() -> None:
    logits = torch.randn(3, 4)
    d = OneHotCategorical(4)(logits)
    assert isinstance(d, td.OneHotCategorical)
    torch.testing.assert_close(d.logits, td.OneHotCategorical(logits=logits).logits)


def test_mismatch_raises_with_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 4\], got \[3, 5\]"):
        OneHotCategorical(4)(torch.randn(3, 5))


def test_integer_labels_refused_with_one_hot_hint() -> None:
    d = OneHotCategorical(3)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"one_hot\(labels, 3\)") as info:
        d.log_prob(torch.tensor([0, 1, 2, 0]))
    assert "[..., 3]" in str(info.value)
    assert "(4,)" in str(info.value)
    one_hot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0]), 3).float()
    assert d.log_prob(one_hot).shape == (4,)

"""pygen.layers.categorical.Categorical."""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td
from torch import nn

from pygen.layers import Categorical


@pytest.mark.parametrize(("bad", "error"), [(2.5, TypeError), (True, TypeError), (0, ValueError)])
def test_num_classes_validated(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="num_classes"):
        Categorical(num_classes=bad)  # type: ignore[arg-type]


def test_params_size_is_num_classes() -> None:
    assert Categorical.params_size(7) == 7
    with pytest.raises(ValueError, match="num_classes"):
        Categorical.params_size(0)


def test_scalar_logits_raise() -> None:
    with pytest.raises(
        ValueError, match=r"logits must have shape \[\*batch, num_classes\], got \[\]"
    ):
        Categorical()(torch.tensor(1.0))


def test_integer_logits_raise_type_error() -> None:
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        Categorical()(torch.zeros(3, 4, dtype=torch.long))


def test_num_classes_mismatch_raises_with_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 10\], got \[4, 9\]"):
        Categorical(num_classes=10)(torch.randn(4, 9))


def test_any_number_of_classes_without_num_classes() -> None:
    assert Categorical()(torch.randn(4, 3)).batch_shape == (4,)
    assert Categorical()(torch.randn(4, 12)).param_shape == (4, 12)


def test_label_column_is_refused_instead_of_broadcasting() -> None:
    d = Categorical()(torch.randn(5, 3))
    labels = torch.tensor([0, 1, 2, 1, 0])
    with pytest.raises(ValueError, match=r"value has shape \[5, 1\].*batch_shape \[5\].*\[5, 5\]"):
        d.log_prob(labels.unsqueeze(-1))
    assert d.log_prob(labels).shape == (5,)


def test_label_column_refused_for_nested_batches_and_after_expand() -> None:
    d = Categorical()(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="squeeze"):
        d.log_prob(torch.zeros(2, 3, 1, dtype=torch.long))
    expanded = Categorical()(torch.randn(3, 4)).expand((2, 3))
    with pytest.raises(ValueError, match="squeeze"):
        expanded.log_prob(torch.zeros(2, 3, 1, dtype=torch.long))


def test_legitimate_broadcasts_still_work() -> None:
    d = Categorical()(torch.randn(5, 3))
    assert d.log_prob(torch.zeros(7, 5, dtype=torch.long)).shape == (7, 5)  # sample dims
    assert d.log_prob(torch.tensor(1)).shape == (5,)
    support = d.enumerate_support(expand=False)  # [3, 1]: every class against every example
    assert d.log_prob(support).shape == (3, 5)


def test_is_a_torch_categorical_with_the_same_log_prob() -> None:
    logits = torch.randn(4, 6)
    d = nn.Sequential(nn.Identity(), Categorical())(logits)
    assert isinstance(d, td.Categorical)
    x = torch.tensor([0, 5, 2, 3])
    torch.testing.assert_close(d.log_prob(x), td.Categorical(logits=logits).log_prob(x))

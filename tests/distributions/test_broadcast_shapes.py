"""The package's plain-Python shape broadcast against ``torch.broadcast_shapes``."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pygen.distributions._validation import broadcast_shapes

shapes = st.lists(st.lists(st.sampled_from([0, 1, 2, 3]), max_size=4), max_size=4)


@settings(deadline=None)  # the reference's first call imports sympy
@given(shapes)
def test_same_result_or_same_refusal_as_torch(many: list[list[int]]) -> None:
    try:
        expected = torch.broadcast_shapes(*many)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="do not broadcast"):
            broadcast_shapes(*many)
    else:
        result = broadcast_shapes(*many)
        assert result == expected
        assert isinstance(result, torch.Size)


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ([(4, 1), (3,), ()], (4, 3)),
        ([(0,), (1,)], (0,)),
        ([torch.Size([2, 1, 5]), torch.Size([7, 1])], (2, 7, 5)),
        ([], ()),
    ],
)
def test_examples(shapes: list, expected: tuple) -> None:
    assert broadcast_shapes(*shapes) == torch.Size(expected)


def test_refusal_names_the_shapes() -> None:
    with pytest.raises(RuntimeError, match=r"\(2, 3\), \(4,\)"):
        broadcast_shapes((2, 3), (4,))

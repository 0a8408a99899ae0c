"""pygen.layers.one_hot.OneHot."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import OneHot


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), ("10", TypeError), (False, TypeError)])
def test_num_classes_validated(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="num_classes"):
        OneHot(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bool])
def test_non_integer_labels_raise_type_error(dtype: torch.dtype) -> None:
    with pytest.raises(TypeError, match="integer tensor"):
        OneHot(3)(torch.zeros(2, dtype=dtype))


def test_not_a_tensor_raises_type_error() -> None:
    with pytest.raises(TypeError, match="got list"):
        OneHot(3)([0, 1])  # type: ignore[arg-type]


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0]])
def test_labels_out_of_range_raise(labels: list[int]) -> None:
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        OneHot(3)(torch.tensor(labels))


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_shape_dtype_and_values(shape: tuple[int, ...]) -> None:
    labels = torch.randint(0, 5, shape, dtype=torch.int32)
    encoded = OneHot(5)(labels)
    assert encoded.shape == (*shape, 5)
    assert encoded.dtype == torch.get_default_dtype()
    assert torch.equal(encoded.argmax(-1), labels.long())
    assert torch.equal(encoded.sum(-1), torch.ones(shape))


def test_empty_labels() -> None:
    assert OneHot(4)(torch.zeros(0, dtype=torch.long)).shape == (0, 4)

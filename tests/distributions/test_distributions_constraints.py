"""Tests for pygen.distributions.constraints.DiscretizedUnitInterval."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Independent

from pygen.distributions import DiscretizedLogistic, DiscretizedUnitInterval


def test_rejects_bad_num_bins() -> None:
    with pytest.raises(ValueError, match="num_bins: expected an int >= 2, found 1"):
        DiscretizedUnitInterval(1)
    with pytest.raises(TypeError, match="num_bins: expected an int, found str"):
        DiscretizedUnitInterval("256")  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64], ids=str)
def test_grid_points_pass_and_others_fail(dtype: torch.dtype) -> None:
    grid = DiscretizedUnitInterval(256)
    on_grid = torch.arange(256, dtype=dtype) / 255
    assert bool(grid.check(on_grid).all())
    assert not bool(grid.check(torch.tensor([-1 / 255, 1 + 1 / 255], dtype=dtype)).any())
    if dtype != torch.float16:  # float16 cannot tell 256 grid points from their midpoints
        midpoints = (torch.arange(255, dtype=dtype) + 0.5) / 255
        assert not bool(grid.check(midpoints).any())


def test_is_discrete_scalar_constraint_with_a_readable_repr() -> None:
    grid = DiscretizedUnitInterval(num_bins=16)
    assert grid.is_discrete
    assert grid.event_dim == 0
    assert repr(grid) == "DiscretizedUnitInterval(num_bins=16)"


def test_is_the_support_of_the_discretized_distributions() -> None:
    d = DiscretizedLogistic(torch.zeros(3), torch.ones(3), num_bins=8)
    assert isinstance(d.support, DiscretizedUnitInterval)
    assert d.support.num_bins == 8
    # Independent reinterprets it with one more event dim, as for torch's own supports.
    assert Independent(d, 1).support.event_dim == 1

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
    # float16 too can tell the 256 grid points from their midpoints (its spacing near 1 is
    # 2**-11, an eighth of a bin): off-grid values are refused in every dtype here.
    midpoints = ((torch.arange(255, dtype=torch.float64) + 0.5) / 255).to(dtype)
    assert not bool(grid.check(midpoints).any())
    # k * (1 / 255) rounds twice in the value's dtype and still passes.
    assert bool(
        grid.check(torch.arange(256, dtype=dtype) * torch.tensor(1 / 255, dtype=dtype)).all()
    )


def test_float16_refuses_values_a_third_of_a_bin_off_where_it_can_tell() -> None:
    grid = DiscretizedUnitInterval(256)
    third = ((torch.arange(255, dtype=torch.float64) + 1 / 3) / 255).to(torch.float16)
    # Below 1/2, float16's spacing is at most 2**-12, a sixteenth of a bin.
    assert not bool(grid.check(third[:127]).any())


def test_bfloat16_says_it_cannot_tell_256_grid_points_apart() -> None:
    grid = DiscretizedUnitInterval(256)
    with pytest.raises(
        ValueError, match=r"bfloat16 cannot tell the 256 grid points apart.*float32"
    ):
        grid.check(torch.tensor([0.0, 1.0], dtype=torch.bfloat16))
    # With 32 bins its spacing is fine enough, and the check works.
    coarse = DiscretizedUnitInterval(32)
    assert bool(coarse.check((torch.arange(32) / 31).to(torch.bfloat16)).all())
    assert not bool(coarse.check(((torch.arange(31) + 0.5) / 31).to(torch.bfloat16)).any())


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

"""pygen.layers.multivariate_normal_tril.MultivariateNormalTriL."""

from __future__ import annotations

import pytest
import torch
from torch.nn.functional import softplus

from pygen.layers import MultivariateNormalTriL


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (2.0, TypeError)])
def test_event_size_validated(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="event_size"):
        MultivariateNormalTriL(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("d", "size"), [(1, 2), (2, 5), (3, 9), (10, 65)])
def test_params_size(d: int, size: int) -> None:
    assert MultivariateNormalTriL.params_size(d) == size


def test_lower_triangle_filled_row_by_row() -> None:
    params = torch.tensor([0.5, -0.5, 1.0, 2.0, 3.0])  # d = 2: loc, then L00, L10, L11
    d = MultivariateNormalTriL(2)(params)
    torch.testing.assert_close(d.loc, torch.tensor([0.5, -0.5]))
    expected = torch.tensor(
        [[softplus(torch.tensor(1.0)) + 1e-5, 0.0], [2.0, softplus(torch.tensor(3.0)) + 1e-5]]
    )
    torch.testing.assert_close(d.scale_tril, expected)
    torch.testing.assert_close(d.covariance_matrix, expected @ expected.T)


def test_very_negative_diagonal_stays_a_valid_cholesky_factor() -> None:
    params = torch.tensor([0.0, 0.0, 0.0, -200.0, 0.5, -200.0, 0.5, 0.5, -200.0])
    d = MultivariateNormalTriL(3)(params)
    assert bool((torch.diagonal(d.scale_tril) >= 1e-5).all())
    assert torch.isfinite(d.log_prob(torch.zeros(3)))


def test_mismatch_raises_with_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 9\], got \[2, 6\]"):
        MultivariateNormalTriL(3)(torch.randn(2, 6))


def test_follows_the_module_to_another_dtype() -> None:
    d = MultivariateNormalTriL(2).double()(torch.randn(3, 5, dtype=torch.float64))
    assert d.scale_tril.dtype == torch.float64

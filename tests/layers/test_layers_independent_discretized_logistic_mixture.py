"""pygen.layers.independent_discretized_logistic_mixture.IndependentDiscretizedLogisticMixture."""

from __future__ import annotations

import pytest
import torch
from torch.nn.functional import softplus

from pygen.layers import IndependentDiscretizedLogisticMixture


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"event_shape": [3], "num_mixtures": 0}, ValueError, "num_mixtures"),
        ({"event_shape": [3], "num_mixtures": 2, "num_bins": 1}, ValueError, "num_bins"),
        ({"event_shape": [3], "num_mixtures": 2, "num_bins": 8.0}, TypeError, "num_bins"),
    ],
)
def test_arguments_validated(kwargs: dict[str, object], error: type[Exception], name: str) -> None:
    with pytest.raises(error, match=name):
        IndependentDiscretizedLogisticMixture(**kwargs)  # type: ignore[arg-type]


def test_params_size() -> None:
    assert IndependentDiscretizedLogisticMixture.params_size([3, 32, 32], 10) == 30 * 3072


def logistic_bin_mass(
    x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor, bins: int
) -> torch.Tensor:
    """Mass of x's bin under a logistic, open at both ends (the PixelCNN++ rule)."""
    half = 0.5 / (bins - 1)
    upper = torch.where(x >= 1, torch.ones_like(x), torch.sigmoid((x + half - loc) / scale))
    lower = torch.where(x <= 0, torch.zeros_like(x), torch.sigmoid((x - half - loc) / scale))
    return upper - lower


def test_log_prob_against_a_hand_computed_mixture_of_logistic_bins() -> None:
    m, bins = 2, 8
    params = torch.randn(3, 3 * m * 2, 2, 2, dtype=torch.float64)  # channel-first, C = 2
    d = IndependentDiscretizedLogisticMixture([2, 2, 2], m, num_bins=bins)(params)
    x = torch.randint(0, bins, (3, 2, 2, 2)).double() / (bins - 1)
    x[0, 0, 0, 0], x[0, 0, 0, 1] = 0.0, 1.0
    blocks = params.unflatten(1, (3 * m, 2))  # [B, 3M, C, H, W]
    weights = blocks[:, :m].softmax(1)
    loc, scale = blocks[:, m : 2 * m], softplus(blocks[:, 2 * m :])
    mass = (weights * logistic_bin_mass(x.unsqueeze(1), loc, scale, bins)).sum(1)
    torch.testing.assert_close(d.log_prob(x), mass.log().sum((-3, -2, -1)))


def test_samples_lie_on_the_grid() -> None:
    d = IndependentDiscretizedLogisticMixture([1, 3, 3], 2, num_bins=4)(torch.randn(5, 6, 3, 3))
    x = d.sample()
    assert x.shape == (5, 1, 3, 3)
    torch.testing.assert_close(x * 3, (x * 3).round())

"""pygen.layers.independent_poisson.IndependentPoisson."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import IndependentPoisson


def test_event_shape_validated() -> None:
    with pytest.raises(TypeError, match="event_shape"):
        IndependentPoisson({3})  # type: ignore[arg-type]


def test_params_are_log_rates() -> None:
    params = torch.randn(4, 3)
    d = IndependentPoisson(3)(params)
    torch.testing.assert_close(d.mean, params.exp())


def test_non_integer_counts_fail_validation() -> None:
    d = IndependentPoisson(2)(torch.zeros(2))
    with pytest.raises(ValueError, match="support"):
        d.log_prob(torch.tensor([0.5, 1.0]))

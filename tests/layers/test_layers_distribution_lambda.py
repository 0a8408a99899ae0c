"""pygen.layers.distribution_lambda.DistributionLambda."""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td
from torch import nn

from pygen.layers import DistributionLambda


def test_non_callable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="make_distribution_fn must be callable, got int"):
        DistributionLambda(3)  # type: ignore[arg-type]


def test_result_without_log_prob_raises_type_error() -> None:
    layer = DistributionLambda(lambda t: t * 2)
    with pytest.raises(TypeError, match=r"must return a distribution.*got Tensor"):
        layer(torch.zeros(2))


def test_passes_all_arguments_through() -> None:
    layer = DistributionLambda(lambda loc, scale=1.0: td.Normal(loc, scale))
    d = layer(torch.zeros(3), scale=torch.full((3,), 2.0))
    torch.testing.assert_close(d.stddev, torch.full((3,), 2.0))


def test_module_callable_is_registered() -> None:
    class Make(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.log_scale = nn.Parameter(torch.zeros(()))

        def forward(self, t: torch.Tensor) -> td.Distribution:
            return td.Normal(t, self.log_scale.exp())

    layer = DistributionLambda(Make())
    assert len(list(layer.parameters())) == 1
    layer(torch.zeros(2)).log_prob(torch.ones(2)).sum().backward()
    assert next(layer.parameters()).grad is not None

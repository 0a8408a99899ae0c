"""Tests of pygen.distributions.dequantized_objective.DequantizedObjective."""

from __future__ import annotations

import pytest
import torch

from pygen.distributions import Dequantized, DequantizedObjective, Glow, UniformDequantization


def test_validation_and_names() -> None:
    with pytest.raises(ValueError, match="k: expected an int >= 1, found 0"):
        DequantizedObjective(k=0)
    with pytest.raises(TypeError, match="conditional: expected a bool"):
        DequantizedObjective(conditional=1)
    assert DequantizedObjective().name == "elbo"
    assert DequantizedObjective(k=16).name == "iwae_16"
    assert repr(DequantizedObjective(k=2)) == "DequantizedObjective(k=2, conditional=False)"


def test_returns_per_example_bound_with_gradient() -> None:
    model = Dequantized(Glow([1, 4, 4], num_levels=1, num_steps=1), UniformDequantization())
    x = torch.randint(0, 256, (6, 1, 4, 4)) / 255
    value, metrics = DequantizedObjective()(model, (x,))
    assert value.shape == (6,)
    assert value.requires_grad
    assert list(metrics) == ["elbo"]
    assert not metrics["elbo"].requires_grad
    value, metrics = DequantizedObjective(k=3)(model, (x,))
    assert list(metrics) == ["iwae_3"]
    assert value.shape == (6,)
    conditional = Dequantized(
        Glow([1, 4, 4], num_levels=1, num_steps=1, condition_shape=[2]), UniformDequantization()
    )
    value, _ = DequantizedObjective(conditional=True)(conditional, (x, torch.randn(6, 2)))
    assert value.shape == (6,)

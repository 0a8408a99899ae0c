"""A ConditionalFlow layer (a pygen MAF conditioned on a label) trains with LayerTrainer."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.distributions import MAF
from pygen.layers import ConditionalFlow, OneHot
from pygen.train import LayerTrainer


def test_conditional_flow_layer_trains_with_layer_trainer() -> None:
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (384,))
    x = torch.randn(384, 2) * 0.2 + torch.stack([labels.float(), -labels.float()], dim=-1)
    layer = nn.Sequential(
        OneHot(3), nn.Linear(3, 8), ConditionalFlow(MAF(2, 2, [16], condition_size=8))
    )
    before = layer(labels).log_prob(x).mean().item()
    LayerTrainer(layer, TensorDataset(labels, x), batch_size=64, max_epoch=3).train()
    after = layer(labels).log_prob(x).mean().item()
    assert after > before + 0.5
    d = layer(torch.tensor([0, 2]))
    assert d.rsample((5,)).shape == (5, 2, 2)


def test_conditional_flow_errors() -> None:
    with pytest.raises(ValueError, match="flow must be built with condition_size"):
        ConditionalFlow(MAF(2, 1, [4]))
    with pytest.raises(TypeError, match=r"flow must be a pygen\.distributions\.Flow, got Linear"):
        ConditionalFlow(nn.Linear(2, 2))  # type: ignore[arg-type]
    layer = ConditionalFlow(MAF(2, 1, [4], condition_size=3))
    assert ConditionalFlow.params_size(MAF(2, 1, [4], condition_size=3)) == 3
    with pytest.raises(ValueError, match=r"params must have shape \[\*batch, 3\], got \[4, 2\]"):
        layer(torch.zeros(4, 2))

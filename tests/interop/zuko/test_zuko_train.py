"""A zuko flow trains unchanged through pygen's trainers (nox -s interop-zuko)."""

from __future__ import annotations

import torch
import zuko
from torch.utils.data import TensorDataset

from pygen.train import DistributionTrainer, LayerTrainer
from pygen.train.objective import CallableObjective


def two_moons_like(n: int, seed: int = 0) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=generator)
    angle = torch.rand(n, generator=generator) * torch.pi
    x = torch.stack([angle.cos() + labels, angle.sin() * (1 - 2 * labels.float())], dim=-1)
    x = x + 0.1 * torch.randn(n, 2, generator=generator)
    return TensorDataset(torch.nn.functional.one_hot(labels, 2).float(), x)


def test_conditional_zuko_nsf_trains_with_layer_trainer() -> None:
    torch.manual_seed(0)
    data = two_moons_like(512)
    flow = zuko.flows.NSF(features=2, context=2, transforms=2, hidden_features=[32, 32])
    labels, x = data.tensors
    before = flow(labels).log_prob(x).mean().item()
    LayerTrainer(flow, data, batch_size=64, max_epoch=4).train()  # maximises flow(c).log_prob(x)
    after = flow(labels).log_prob(x).mean().item()
    assert after > before + 0.5


def test_unconditional_zuko_nsf_trains_with_distribution_trainer() -> None:
    torch.manual_seed(0)
    x = two_moons_like(512).tensors[1]
    flow = zuko.flows.NSF(features=2, transforms=2, hidden_features=[32, 32])
    before = flow().log_prob(x).mean().item()
    # zuko's unconditional flow is called with no argument; its log_prob is exact.
    objective = CallableObjective(lambda model, batch: model().log_prob(batch[0]), name="log_prob")
    DistributionTrainer(
        flow, TensorDataset(x), batch_size=64, max_epoch=4, objective=objective
    ).train()
    after = flow().log_prob(x).mean().item()
    assert after > before + 0.5

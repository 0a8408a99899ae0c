"""A dequantized Glow trains through the trainer's objective=, reported as a bound."""

from __future__ import annotations

import math

import torch
from torch.utils.data import TensorDataset

from pygen.distributions import Dequantized, DequantizedObjective, Glow, UniformDequantization
from pygen.train import DistributionTrainer, evaluate


def test_dequantized_glow_reports_elbo_bits_per_dim_never_log_prob() -> None:
    torch.manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 4, 4)) / 255
    model = Dequantized(Glow([1, 4, 4], num_levels=1, num_steps=1, hidden_channels=8),
                        UniformDequantization(256))  # fmt: skip
    trainer = DistributionTrainer(
        model, TensorDataset(images), batch_size=16, max_epoch=1, objective=DequantizedObjective()
    )
    trainer.train()
    metrics = evaluate(model, TensorDataset(images), objective=DequantizedObjective())
    assert "elbo" in metrics
    assert "elbo_bits_per_dim" in metrics
    assert "log_prob" not in metrics
    assert "bits_per_dim" not in metrics
    assert math.isclose(
        metrics["elbo_bits_per_dim"], -metrics["elbo"] / (16 * math.log(2)), rel_tol=1e-6
    )

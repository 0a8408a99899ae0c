"""Tests for pygen.train.history.MetricsHistory."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import DistributionTrainer, MetricsHistory


def test_train_history_load_state_dict_rejects_bad_state():
    with pytest.raises(ValueError, match=r"'batches' and 'epochs', got \['epochs'\]"):
        MetricsHistory().load_state_dict({"epochs": []})


def test_train_history_epoch_values_unknown_metric_lists_known():
    history = MetricsHistory()
    history.add_epoch({"epoch": 0, "log_prob": -1.0})
    with pytest.raises(
        KeyError, match=r"no epoch recorded metric 'accuracy'; known: \['epoch', 'log_prob'\]"
    ):
        history.epoch_values("accuracy")


def test_train_history_round_trips_through_state_dict():
    history = MetricsHistory()
    history.add_batch({"epoch": 0, "batch": 1, "log_prob": -2.0})
    history.add_epoch({"epoch": 0, "log_prob": -2.0, "lr": 0.1})
    restored = MetricsHistory()
    restored.load_state_dict(history.state_dict())
    assert restored.batches == history.batches
    assert restored.epochs == history.epochs
    assert repr(restored) == "MetricsHistory(batches=1, epochs=1)"


def test_train_history_records_every_batch_and_epoch():
    class Gaussian(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Parameter(torch.zeros(2))

        def log_prob(self, x):
            return torch.distributions.Normal(self.loc, 1.0).log_prob(x).sum(-1)

    trainer = DistributionTrainer(
        Gaussian(), TensorDataset(torch.randn(12, 2)), 4, 2, progress=False
    )
    trainer.train()
    history = trainer.history
    assert [(r["epoch"], r["batch"]) for r in history.batches] == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 4),
        (1, 5),
        (1, 6),
    ]
    assert [r["epoch"] for r in history.epochs] == [0, 1]
    first_epoch = [r["log_prob"] for r in history.batches[:3]]
    assert history.epochs[0]["log_prob"] == pytest.approx(sum(first_epoch) / 3)
    # bits per dimension for 2-element examples
    assert history.epochs[0]["bits_per_dim"] == pytest.approx(
        -history.epochs[0]["log_prob"] / (2 * torch.log(torch.tensor(2.0)).item())
    )

"""Tests for pygen.train.evaluate.evaluate."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import evaluate


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        return torch.distributions.Categorical(logits=self.dropout(self.linear(x)))


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(3))

    def log_prob(self, x):
        return torch.distributions.Normal(self.loc, 1.0).log_prob(x).sum(-1)


def test_train_evaluate_rejects_bad_mode():
    with pytest.raises(
        ValueError, match=r"mode must be one of \['distribution', 'layer'\], got 'layers'"
    ):
        evaluate(Gaussian(), TensorDataset(torch.zeros(2, 3)), mode="layers")


def test_train_evaluate_rejects_distribution_without_log_prob():
    with pytest.raises(TypeError, match="must have a log_prob method in distribution mode"):
        evaluate(nn.Linear(1, 1), TensorDataset(torch.zeros(2, 1)), mode="distribution")


def test_train_evaluate_rejects_empty_dataset():
    with pytest.raises(ValueError, match="dataset must not be empty"):
        evaluate(Gaussian(), TensorDataset(torch.zeros(0, 3)), mode="distribution")


def test_train_evaluate_rejects_wrong_log_prob_shape():
    class Unsummed(Gaussian):
        def log_prob(self, x):
            return torch.distributions.Normal(self.loc, 1.0).log_prob(x)

    with pytest.raises(ValueError, match=r"shape \[4\] for a batch of 4; got shape \[4, 3\]"):
        evaluate(Unsummed(), TensorDataset(torch.zeros(4, 3)), mode="distribution")


def test_train_evaluate_distribution_exact_mean_over_uneven_batches():
    x = torch.randn(10, 3)
    metrics = evaluate(Gaussian(), TensorDataset(x), mode="distribution", batch_size=4)
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(x).sum(-1).mean().item()
    assert metrics["log_prob"] == pytest.approx(expected, rel=1e-6)
    assert metrics["bits_per_dim"] == pytest.approx(-expected / (3 * math.log(2)), rel=1e-6)
    assert "accuracy" not in metrics


def test_train_evaluate_layer_accuracy_eval_mode_and_restores_training():
    model = Classifier()
    model.train()
    model.dropout.eval()  # a mixed-mode module: each flag is restored
    x = torch.randn(50, 2)
    y = torch.randint(0, 2, (50,))
    metrics = evaluate(model, TensorDataset(x, y), mode="layer", batch_size=8)
    model.eval()
    with torch.no_grad():
        output = model(x)
    assert metrics["log_prob"] == pytest.approx(output.log_prob(y).mean().item(), rel=1e-6)
    assert metrics["accuracy"] == pytest.approx(
        (output.logits.argmax(-1) == y).float().mean().item()
    )
    assert set(metrics) == {"log_prob", "accuracy"}


def test_train_evaluate_mode_flags_restored():
    model = Classifier()
    model.dropout.eval()
    evaluate(
        model, TensorDataset(torch.randn(4, 2), torch.zeros(4, dtype=torch.long)), mode="layer"
    )
    assert model.training
    assert not model.dropout.training


def test_train_evaluate_reverse_inputs():
    model = Classifier()
    x = torch.randn(6, 2)
    y = torch.randint(0, 2, (6,))
    forward = evaluate(model, TensorDataset(x, y), mode="layer")
    reverse = evaluate(model, TensorDataset(y, x), mode="layer", reverse_inputs=True)
    assert forward == reverse

"""Checks run before the first training step (pygen.train._preflight)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import CallableObjective, Callback, DistributionTrainer


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.loc, 1.0, validate_args=False).log_prob(x)


class CountBatches(Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_batch_end(self, trainer):
        self.batches += 1


def build(validation, **options):
    counter = CountBatches()
    trainer = DistributionTrainer(
        Gaussian(),
        TensorDataset(torch.randn(64)),
        8,
        1,
        validation_dataset=validation,
        callbacks=[counter],
        progress=False,
        **options,
    )
    return trainer, counter


def test_train_preflight_scalar_validation_objective_fails_before_any_step():
    def scalar(model, batch):
        return model.log_prob(batch[0]).mean()

    trainer, counter = build(TensorDataset(torch.randn(16)), validation_objective=scalar)
    with pytest.raises(ValueError, match=r"validation: objective must return one value per "
                       r"example, shape \[8\]"):  # fmt: skip
        trainer.train()
    assert counter.batches == 0
    assert trainer.global_step == 0


def test_train_preflight_non_finite_validation_data_fails_before_any_step():
    values = torch.randn(16)
    values[3] = math.nan
    trainer, counter = build(TensorDataset(values))
    with pytest.raises(ValueError, match=r"validation objective 'log_prob' is not finite on "
                       r"the first validation batch .*NaN/inf"):  # fmt: skip
        trainer.train()
    assert counter.batches == 0
    assert trainer.global_step == 0
    build(TensorDataset(values), check_finite=False)[0].train()  # the check is check_finite's


def test_train_preflight_detached_or_integer_objective_is_named():
    def detached(model, batch):
        return model.log_prob(batch[0]).detach()

    def integer(model, batch):
        return model.log_prob(batch[0]).long()

    trainer, _ = build(None, objective=CallableObjective(detached, name="mine"))
    with pytest.raises(ValueError, match=r"objective 'mine' returned a tensor without a gradient"):
        trainer.train()
    trainer, _ = build(None, objective=integer)
    with pytest.raises(TypeError, match=r"objective 'objective' must return a floating-point "
                       r"tensor to maximise; got dtype torch.int64"):  # fmt: skip
        trainer.train()


def iwae_like(model, batch):
    """An unnamed validation objective whose value is also its named metric."""
    bound = model.log_prob(batch[0]) - 0.5
    return bound, {"iwae_10": bound, "elbo": bound - 0.1}


def surrogate(model, batch):
    value = model.log_prob(batch[0])
    return value, {"elbo": value.detach()}


def test_train_preflight_other_validation_objective_only_under_its_own_name():
    trainer, _ = build(
        TensorDataset(torch.randn(16)), objective=surrogate, validation_objective=iwae_like
    )
    trainer.train()
    record = trainer.history.epochs[-1]
    assert {"objective", "val_iwae_10"} <= set(record), sorted(record)
    assert "val_objective" not in record, sorted(record)  # not the training objective's name
    assert record["val_elbo"] == pytest.approx(record["val_iwae_10"] - 0.1)
    # the same function for both: val_objective is the same quantity, kept
    same, _ = build(TensorDataset(torch.randn(16)), objective=surrogate,
                    validation_objective=surrogate)  # fmt: skip
    same.train()
    assert "val_objective" in same.history.epochs[-1]


def test_train_preflight_unnamed_validation_objective_without_its_value_is_refused():
    def other(model, batch):
        return model.log_prob(batch[0]) * 2.0

    trainer, counter = build(
        TensorDataset(torch.randn(16)), objective=surrogate, validation_objective=other
    )
    with pytest.raises(ValueError, match=r"unnamed too, so its value would be logged as "
                       r"'val_objective'.*CallableObjective"):  # fmt: skip
        trainer.train()
    assert counter.batches == 0

"""Tests for pygen.train.objective: custom objectives through training, validation, evaluate."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import (
    CallableObjective,
    DistributionTrainer,
    LayerTrainer,
    TrainerState,
    evaluate,
)


class LatentGaussian(nn.Module):
    """x = z + noise, z ~ N(0, 1), noise ~ N(0, s^2), with q(z | x) = N(a x, t^2).

    Its ELBO is a real lower bound on log p(x) = log N(x; 0, 1 + s^2).
    """

    def __init__(self) -> None:
        super().__init__()
        self.log_noise = nn.Parameter(torch.zeros(()))
        self.encoder_gain = nn.Parameter(torch.zeros(()))
        self.encoder_log_scale = nn.Parameter(torch.zeros(()))

    def elbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.squeeze(-1)
        posterior = torch.distributions.Normal(self.encoder_gain * x, self.encoder_log_scale.exp())
        z = posterior.rsample()
        prior = torch.distributions.Normal(torch.zeros_like(z), torch.ones_like(z))
        likelihood = torch.distributions.Normal(z, self.log_noise.exp())
        kl = torch.distributions.kl_divergence(posterior, prior)
        return likelihood.log_prob(x) - kl, kl


def elbo_objective(model, batch):
    elbo, kl = model.elbo_terms(batch[0])
    return elbo, {"kl": kl}


def data(n: int = 256) -> TensorDataset:
    generator = torch.Generator().manual_seed(3)
    return TensorDataset(1.5 * torch.randn(n, 1, generator=generator))


def test_train_custom_elbo_objective_trains_and_reports_its_terms_under_their_names():
    torch.manual_seed(0)
    model = LatentGaussian()
    trainer = DistributionTrainer(
        model,
        data(),
        64,
        30,
        objective=CallableObjective(elbo_objective, name="elbo"),
        validation_dataset=data(64),
        optimizer=lambda p: torch.optim.Adam(p, lr=0.05),
        progress=False,
        seed=0,
    )
    assert isinstance(trainer, TrainerState)
    trainer.train()
    elbo = trainer.history.epoch_values("elbo")
    assert elbo[-1] > elbo[0] + 0.1  # it learned
    record = trainer.history.batches[-1]
    assert {"elbo", "kl", "elbo_bits_per_dim"} <= set(record)
    assert record["elbo_bits_per_dim"] == pytest.approx(-record["elbo"] / math.log(2))
    metrics = trainer.metrics
    assert {"elbo", "kl", "elbo_bits_per_dim", "val_elbo", "val_kl", "val_elbo_bits_per_dim"} <= (
        set(metrics)
    )
    for name in (*metrics, *record):  # nothing calls a bound a likelihood
        assert "log_prob" not in name
        assert name not in {"bits_per_dim", "val_bits_per_dim"}
    assert math.isnan(trainer.log_prob_item)
    assert math.isnan(trainer.total_log_prob)  # a bound is not a log-likelihood
    # the bound is below the exact log-likelihood of the fitted model
    x = data().tensors[0].squeeze(-1)
    variance = 1 + model.log_noise.exp().item() ** 2
    exact = torch.distributions.Normal(0.0, variance**0.5).log_prob(x).mean().item()
    assert metrics["elbo"] < exact + 0.05
    # evaluate uses the same objective (its sampling aside): close to the validation figure
    torch.manual_seed(1)
    evaluated = evaluate(model, data(64), objective=trainer.objective, batch_size=16)
    assert set(evaluated) == {"elbo", "kl", "elbo_bits_per_dim"}
    assert evaluated["elbo"] == pytest.approx(metrics["val_elbo"], abs=0.3)


def test_train_plain_callable_objective_is_named_objective_and_gets_no_bits():
    trainer = DistributionTrainer(
        LatentGaussian(), data(), 64, 2, objective=elbo_objective, progress=False, seed=0
    )
    trainer.train()
    assert set(trainer.metrics) == {"objective", "kl", "lr"}


def test_train_objective_lets_a_layer_trainer_maximise_anything():
    x = torch.randn(64, 2)
    y = (x[:, 0] > 0).long()

    def weighted(model, batch):
        distribution = model(batch[0])
        return 2.0 * distribution.log_prob(batch[1])

    trainer = LayerTrainer(
        nn.Sequential(nn.Linear(2, 2), _Categorical()),
        TensorDataset(x, y),
        16,
        1,
        objective=weighted,
        progress=False,
    )
    trainer.train()
    assert set(trainer.metrics) == {"objective", "lr"}


class _Categorical(nn.Module):
    def forward(self, logits: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=logits)


@pytest.mark.parametrize(
    ("objective", "error", "match"),
    [
        (
            lambda m, b: b[0].sum(),
            ValueError,
            r"objective must return one value per example, "
            r"shape \[8\] for a batch of 8; got shape \[\]",
        ),
        (lambda m, b: [1.0], TypeError, "objective must be a tensor, got list"),
        (
            lambda m, b: (b[0][:, 0], {"kl": b[0]}),
            ValueError,
            r"metric 'kl' must return one "
            r"value per example, shape \[8\] for a batch of 8; got shape \[8, 1\]",
        ),
        (lambda m, b: (b[0][:, 0], {"lr": b[0][:, 0]}), ValueError, "not one the trainer writes"),
        (lambda m, b: (b[0][:, 0], 3, 4), TypeError, "a tuple of 3"),
    ],
)
def test_train_bad_objective_results_fail_before_the_first_step(objective, error, match):
    model = LatentGaussian()
    before = [p.detach().clone() for p in model.parameters()]
    trainer = DistributionTrainer(model, data(16), 8, 1, objective=objective, progress=False)
    with pytest.raises(error, match=match):
        trainer.train()
    for a, b in zip(before, model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_train_objective_argument_validation():
    with pytest.raises(TypeError, match="objective must be callable"):
        DistributionTrainer(LatentGaussian(), data(16), 8, 1, objective=3)
    with pytest.raises(ValueError, match="not one the trainer writes itself"):
        CallableObjective(elbo_objective, name="val_elbo")
    with pytest.raises(ValueError, match="event_numel must be a positive int"):
        CallableObjective(elbo_objective, event_numel=0)
    with pytest.raises(ValueError, match=r"exactly one of mode= .* and objective="):
        evaluate(LatentGaussian(), data(16))


def test_train_objective_metrics_must_not_change_between_batches():
    calls = []

    def changing(model, batch):
        calls.append(1)
        value = model.elbo_terms(batch[0])[0]
        return value, ({"kl": value} if len(calls) == 1 else {"other": value})

    trainer = DistributionTrainer(
        LatentGaussian(), data(16), 8, 1, objective=changing, progress=False
    )
    with pytest.raises(ValueError, match=r"same metrics; got \['other'\] after \['kl'\]"):
        trainer.train()


def iwae_objective(model, batch, k: int = 8):
    """IWAE-k of the latent-Gaussian model (a tighter bound than its one-sample ELBO)."""
    x = batch[0]
    elbos = torch.stack([model.elbo_terms(x)[0] for _ in range(k)])
    bound = torch.logsumexp(elbos, dim=0) - math.log(k)
    return bound, {"iwae_8": bound}


def test_train_validation_objective_reports_its_own_names_every_epoch():
    torch.manual_seed(0)
    trainer = DistributionTrainer(
        LatentGaussian(),
        data(),
        64,
        3,
        objective=CallableObjective(elbo_objective, name="elbo"),
        validation_dataset=data(64),
        validation_objective=iwae_objective,
        progress=False,
        seed=0,
    )
    trainer.train()
    for record in trainer.history.epochs:
        assert {"elbo", "kl", "val_iwae_8", "val_iwae_8_bits_per_dim"} <= set(record), sorted(
            record
        )
        assert "val_elbo" not in record
        assert "val_kl" not in record
        assert "val_objective" not in record  # its value only under its own name
        assert not any(name.endswith("log_prob") for name in record), sorted(record)


def test_train_validation_objective_needs_a_validation_dataset():
    with pytest.raises(ValueError, match="validation_objective needs a validation_dataset"):
        DistributionTrainer(
            LatentGaussian(), data(16), 8, 1, objective=elbo_objective,
            validation_objective=iwae_objective,
        )  # fmt: skip
    with pytest.raises(TypeError, match="objective must be callable"):
        DistributionTrainer(
            LatentGaussian(), data(16), 8, 1, objective=elbo_objective,
            validation_dataset=data(8), validation_objective=3,
        )  # fmt: skip

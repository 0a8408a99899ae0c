"""Training a VAE through the trainer's objective=: one line, bounds named as bounds.

Only pygen.distributions, pygen.train and torch are used (the D+T environment): the
encoder and decoder heads are small local modules standing in for pygen.layers.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.distributions import Bernoulli, Independent, Normal
from torch.utils.data import TensorDataset

from pygen.distributions import VAE, ELBOObjective, IWAEObjective
from pygen.train import DistributionTrainer, evaluate


class GaussianHead(nn.Module):
    def forward(self, params: Tensor) -> Independent:
        loc, raw = params.chunk(2, dim=-1)
        return Independent(Normal(loc, nn.functional.softplus(raw) + 1e-4), 1)


class BernoulliHead(nn.Module):
    def __init__(self, *event_shape: int) -> None:
        super().__init__()
        self.event_shape = event_shape

    def forward(self, logits: Tensor) -> Independent:
        logits = logits.reshape(*logits.shape[:-1], *self.event_shape)
        return Independent(Bernoulli(logits=logits), len(self.event_shape))


def prototypes(count: int, seed: int = 0) -> Tensor:
    """Binary 1x4x4 images: one of two prototypes with 5% of the pixels flipped."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.zeros(2, 1, 4, 4)
    base[0, :, :2] = 1
    base[1, :, :, :2] = 1
    choice = torch.randint(0, 2, (count,), generator=generator)
    flips = torch.rand(count, 1, 4, 4, generator=generator) < 0.05
    return (base[choice] + flips.float()) % 2


def gaussian_vae() -> VAE:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
    decoder = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 16), BernoulliHead(1, 4, 4))
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    return VAE(nn.Sequential(encoder, GaussianHead()), decoder, prior)


def bernoulli_vae() -> VAE:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 3))
    decoder = nn.Sequential(nn.Linear(3, 32), nn.Tanh(), nn.Linear(32, 16), BernoulliHead(1, 4, 4))
    prior = Independent(Bernoulli(probs=torch.full((3,), 0.5)), 1)
    return VAE(nn.Sequential(encoder, BernoulliHead(3)), decoder, prior, temperature=0.5)


def train(vae: VAE, epochs: int) -> DistributionTrainer:
    trainer = DistributionTrainer(
        vae,
        TensorDataset(prototypes(256)),
        batch_size=32,
        max_epoch=epochs,
        objective=ELBOObjective(),
        optimizer=lambda parameters: torch.optim.Adam(parameters, lr=1e-2),
        validation_dataset=TensorDataset(prototypes(64, seed=1)),
        progress=False,
        seed=0,
    )
    trainer.train()
    return trainer


def test_the_trainer_maximises_the_elbo_and_names_it_a_bound() -> None:
    vae = gaussian_vae()
    trainer = train(vae, 8)
    elbo = trainer.history.epoch_values("elbo")
    val_elbo = trainer.history.epoch_values("val_elbo")
    assert len(elbo) == len(val_elbo) == 8
    assert elbo[-1] > elbo[0] + 2.0, elbo  # it learns (16 pixels: about -11 nats at start)
    assert val_elbo[-1] > val_elbo[0] + 2.0, val_elbo
    for record in trainer.history.epochs:
        names = set(record)
        assert {"elbo", "reconstruction", "kl", "val_elbo", "val_kl"} <= names
        assert not any(name.endswith("log_prob") for name in names), names
        assert "bits_per_dim" not in names, names
        assert "val_bits_per_dim" not in names, names
    # The held-out bounds: IWAE-k is tighter than the ELBO.
    test = TensorDataset(prototypes(64, seed=2))
    elbo_metrics = evaluate(vae, test, objective=ELBOObjective(), batch_size=64)
    iwae_metrics = evaluate(vae, test, objective=IWAEObjective(k=500), batch_size=16)
    assert "log_prob" not in elbo_metrics
    assert "log_prob" not in iwae_metrics
    assert iwae_metrics["iwae_500"] > elbo_metrics["elbo"]
    assert abs(iwae_metrics["elbo"] - elbo_metrics["elbo"]) < 0.5  # two ELBO estimates


def test_validation_with_iwae_k_puts_both_bounds_in_the_history() -> None:
    trainer = DistributionTrainer(
        gaussian_vae(),
        TensorDataset(prototypes(128)),
        batch_size=32,
        max_epoch=2,
        objective=ELBOObjective(),
        validation_dataset=TensorDataset(prototypes(32, seed=1)),
        validation_objective=IWAEObjective(k=50),
        progress=False,
        seed=0,
    )
    trainer.train()
    for record in trainer.history.epochs:
        assert {"elbo", "val_iwae_50", "val_elbo", "val_kl"} <= set(record), sorted(record)
        assert not any(name.endswith("log_prob") for name in record), sorted(record)
    # IWAE-50 of an example is at least its one-sample ELBO on average.
    assert (
        trainer.history.epoch_values("val_iwae_50")[-1]
        > trainer.history.epoch_values("val_elbo")[-1]
    )


def test_a_relaxed_discrete_vae_trains_and_reports_the_exact_elbo() -> None:
    vae = bernoulli_vae()
    trainer = train(vae, 6)
    elbo = trainer.history.epoch_values("elbo")
    assert elbo[-1] > elbo[0] + 1.0, elbo
    assert len(trainer.history.epoch_values("val_elbo")) == 6
    x = prototypes(8, seed=3)
    with torch.no_grad():  # means of many estimates: IWAE-64 lies above the ELBO
        iwae = vae.eval().iwae(x.repeat(50, 1, 1, 1), 64).mean()
        elbo = vae.elbo(x, num_samples=2000).elbo.mean()
    assert iwae > elbo


def test_without_objective_the_trainer_refuses_a_vae_it_cannot_score() -> None:
    with pytest.raises(TypeError, match=r"log_prob"):
        DistributionTrainer(gaussian_vae(), TensorDataset(prototypes(8)), progress=False)

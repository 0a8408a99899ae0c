"""pygen.callbacks watching a pygen.distributions VAE trained on its ELBO by pygen.train.

The log-likelihood callbacks refuse the run before its first step (a VAE has no exact
log-likelihood, only bounds); the callbacks they point to log the bounds, never NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import (
    STORE_EVERYTHING_SIZE_GUIDANCE,
    EventAccumulator,
)
from torch import Tensor, nn
from torch.distributions import Bernoulli, Independent, Normal
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import (
    TBBatchLogProbCallback,
    TBDatasetLogProbDistributionCallback,
    TBDatasetObjectiveCallback,
    TBMetricsCallback,
    TBTotalLogProbCallback,
)
from pygen.distributions import VAE, ELBOObjective, IWAEObjective
from pygen.train import DistributionTrainer


class GaussianHead(nn.Module):
    def forward(self, params: Tensor) -> Independent:
        loc, raw = params.chunk(2, dim=-1)
        return Independent(Normal(loc, nn.functional.softplus(raw) + 1e-4), 1)


class BernoulliHead(nn.Module):
    def forward(self, logits: Tensor) -> Independent:
        return Independent(Bernoulli(logits=logits.reshape(-1, 1, 4, 4)), 3)


def vae() -> VAE:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4))
    decoder = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), BernoulliHead())
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    return VAE(nn.Sequential(encoder, GaussianHead()), decoder, prior)


def images(count: int, seed: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    return TensorDataset((torch.rand(count, 1, 4, 4, generator=generator) < 0.3).float())


def trainer_with(**options) -> DistributionTrainer:
    return DistributionTrainer(
        vae(),
        images(64, seed=0),
        batch_size=16,
        max_epoch=2,
        objective=ELBOObjective(),
        progress=False,
        seed=0,
        **options,
    )


def read(logdir) -> EventAccumulator:
    accumulator = EventAccumulator(str(logdir), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
    accumulator.Reload()
    return accumulator


@pytest.mark.parametrize("kind", ["batch", "total", "dataset"])
def test_log_likelihood_callbacks_refuse_a_vae_before_its_first_step(tmp_path, kind):
    writer = SummaryWriter(tmp_path)
    callback = {
        "batch": lambda: TBBatchLogProbCallback(writer, "log_prob"),
        "total": lambda: TBTotalLogProbCallback(writer, "log_prob"),
        "dataset": lambda: TBDatasetLogProbDistributionCallback(writer, "log_prob", images(8, 1)),
    }[kind]()
    trainer = trainer_with(callbacks=[callback])
    before = [parameter.detach().clone() for parameter in trainer.trainable.parameters()]
    reason = "has no log_prob method" if kind == "dataset" else "objective is not one"
    with pytest.raises(
        TypeError,
        match=rf"{type(callback).__name__}: .*{reason}.*"
        r"'objective' \(metric kind 'other', CallableObjective of ELBOObjective\(num_samples=1\)\)"
        r".*TBMetricsCallback.*TBDatasetObjectiveCallback",
    ):
        trainer.train()
    assert trainer.batch_num == 0
    for old, new in zip(before, trainer.trainable.parameters(), strict=True):
        assert torch.equal(old, new)
    writer.close()
    assert read(tmp_path).Tags()["scalars"] == []


def test_the_suggested_callbacks_log_the_vae_bounds_without_nan(tmp_path):
    writer = SummaryWriter(tmp_path)
    trainer = trainer_with(
        callbacks=[
            TBMetricsCallback(writer),
            TBDatasetObjectiveCallback(writer, images(16, seed=1), IWAEObjective(k=8)),
        ]
    )
    trainer.train()
    writer.close()
    accumulator = read(tmp_path)
    tags = set(accumulator.Tags()["scalars"])
    assert {"epoch/elbo", "epoch/kl", "epoch/reconstruction", "val_iwae_8", "val_elbo"} <= tags
    assert not any("log_prob" in tag for tag in tags)
    for tag in tags:
        assert np.isfinite([event.value for event in accumulator.Scalars(tag)]).all(), tag
    np.testing.assert_allclose(
        [event.value for event in accumulator.Scalars("epoch/elbo")],
        trainer.history.epoch_values("elbo"),
        rtol=1e-6,
    )

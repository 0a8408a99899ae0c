"""A custom objective's terms reach TensorBoard and the CSV log under their own names."""

from __future__ import annotations

import csv

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import CSVLogger, EarlyStopping, TBMetricsCallback
from pygen.train import CallableObjective, DistributionTrainer


class NoisyGaussian(nn.Module):
    """A one-dimensional latent-variable model with a Gaussian encoder."""

    def __init__(self) -> None:
        super().__init__()
        self.log_noise = nn.Parameter(torch.zeros(()))
        self.gain = nn.Parameter(torch.zeros(()))


def elbo(model, batch):
    x = batch[0]
    posterior = torch.distributions.Normal(model.gain * x, 0.5)
    z = posterior.rsample()
    kl = torch.distributions.kl_divergence(posterior, torch.distributions.Normal(0.0, 1.0))
    reconstruction = torch.distributions.Normal(z, model.log_noise.exp()).log_prob(x)
    return reconstruction - kl, {"kl": kl}


def test_elbo_and_kl_in_tensorboard_and_csv(tmp_path, events):
    x = 2.0 * torch.randn(64, generator=torch.Generator().manual_seed(0))
    writer = SummaryWriter(tmp_path / "tb")
    stopper = EarlyStopping(monitor="val_elbo", patience=50)
    trainer = DistributionTrainer(
        NoisyGaussian(),
        TensorDataset(x),
        16,
        3,
        objective=CallableObjective(elbo, name="elbo"),
        validation_dataset=TensorDataset(x[:16]),
        callbacks=[
            TBMetricsCallback(writer, log_batch_metrics=True),
            CSVLogger(tmp_path / "log.csv"),
            stopper,
        ],
        progress=False,
        seed=0,
    )
    trainer.train()
    writer.close()
    assert stopper.mode == "max"  # a bound is maximised
    accumulator = events(tmp_path / "tb")
    tags = set(accumulator.Tags()["scalars"])
    assert {"epoch/elbo", "epoch/kl", "epoch/val_elbo", "epoch/elbo_bits_per_dim"} <= tags
    assert {"batch/elbo", "batch/kl"} <= tags
    assert not any("log_prob" in tag or tag.endswith("/bits_per_dim") for tag in tags)
    values = [event.value for event in accumulator.Scalars("epoch/kl")]
    np.testing.assert_allclose(values, trainer.history.epoch_values("kl"), rtol=1e-6)
    batches = [event.value for event in accumulator.Scalars("batch/elbo")]
    np.testing.assert_allclose(
        batches, [record["elbo"] for record in trainer.history.batches], rtol=1e-6
    )
    with (tmp_path / "log.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 3
    assert {"elbo", "kl", "val_elbo", "val_kl", "elbo_bits_per_dim"} <= set(rows[0])
    assert not any("log_prob" in column for column in rows[0])
    assert [float(row["kl"]) for row in rows] == trainer.history.epoch_values("kl")

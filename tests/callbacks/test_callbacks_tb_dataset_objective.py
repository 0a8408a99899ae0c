"""TBDatasetObjectiveCallback: argument checks, logged names and steps, forked RNG."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBDatasetObjectiveCallback
from pygen.train import DistributionTrainer


def noisy_bound(model, batch):
    """A sampling 'bound' named like one: log_prob minus a random positive gap."""
    log_prob = model.log_prob(batch[0])
    gap = torch.rand(log_prob.shape)
    return log_prob - gap, {"elbo": log_prob - 2 * gap, "gap": gap}


def test_rejects_bad_arguments(tmp_path):
    writer = SummaryWriter(tmp_path)
    dataset = TensorDataset(torch.zeros(4, 2))
    with pytest.raises(TypeError, match=r"tb_writer must be a TensorBoard SummaryWriter"):
        TBDatasetObjectiveCallback(None, dataset, noisy_bound)
    with pytest.raises(TypeError, match=r"objective must be a pygen.train objective .*got int"):
        TBDatasetObjectiveCallback(writer, dataset, 3)
    with pytest.raises(ValueError, match=r"dataset must hold at least 1 item\(s\); got 0"):
        TBDatasetObjectiveCallback(writer, TensorDataset(torch.zeros(0, 2)), noisy_bound)
    with pytest.raises(TypeError, match=r"prefix must be a str; got int"):
        TBDatasetObjectiveCallback(writer, dataset, noisy_bound, prefix=1)
    with pytest.raises(ValueError, match=r"every_n_epochs must be an int >= 1; got 0"):
        TBDatasetObjectiveCallback(writer, dataset, noisy_bound, every_n_epochs=0)
    writer.close()


def test_logs_every_figure_under_its_own_name_every_n_epochs(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path / "tb")
    images = data.binary_images(32)
    callback = TBDatasetObjectiveCallback(
        writer, TensorDataset(images[:8]), noisy_bound, every_n_epochs=2, batch_size=4
    )
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(images),
        batch_size=16,
        max_epoch=4,
        progress=False,
        seed=0,
        callbacks=[callback],
    )
    trainer.train()
    writer.close()
    logged = events(tmp_path / "tb")
    assert set(callback.last_metrics) == {
        "val_objective",
        "val_elbo",
        "val_gap",
        "val_elbo_bits_per_dim",  # derived from a bound, and named for it
    }
    for name in callback.last_metrics:
        assert [event.step for event in logged.Scalars(name)] == [1, 3]
    assert callback.last_metrics["val_elbo"] < callback.last_metrics["val_objective"]
    assert "val_log_prob" not in callback.last_metrics


def test_evaluating_does_not_change_what_training_draws(models, data):
    images = data.binary_images(32)

    def train(callbacks):
        trainer = DistributionTrainer(
            models.BernoulliImages(),
            TensorDataset(images),
            batch_size=8,
            max_epoch=3,
            progress=False,
            seed=0,
            callbacks=callbacks,
        )
        trainer.train()
        return trainer.trainable.logits.detach().clone(), torch.rand(3)

    class Writer:
        def add_scalar(self, tag, value, step):
            pass

    plain = train([])
    watched = train([TBDatasetObjectiveCallback(Writer(), TensorDataset(images), noisy_bound)])
    torch.testing.assert_close(watched[0], plain[0])
    torch.testing.assert_close(watched[1], plain[1])

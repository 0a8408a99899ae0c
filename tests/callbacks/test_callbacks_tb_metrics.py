"""TBMetricsCallback: checks, then every training and validation metric read back."""

from __future__ import annotations

import numpy as np
import pytest
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBMetricsCallback
from pygen.train import DistributionTrainer, LayerTrainer


def test_rejects_bad_arguments(tmp_path):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match=r"lacking add_scalar"):
        TBMetricsCallback(object())
    with pytest.raises(TypeError, match=r"prefix must be a str; got int"):
        TBMetricsCallback(writer, prefix=1)
    with pytest.raises(TypeError, match=r"log_batch_metrics must be a bool"):
        TBMetricsCallback(writer, log_batch_metrics=1)
    with pytest.raises(ValueError, match=r"prefix and batch_prefix must differ"):
        TBMetricsCallback(writer, prefix="m/", batch_prefix="m/", log_batch_metrics=True)
    writer.close()


def test_distribution_training_and_validation_metrics(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=3,
        progress=False,
        seed=0,
        validation_dataset=TensorDataset(data.binary_images(16, seed=3)),
        callbacks=[TBMetricsCallback(writer, log_batch_metrics=True)],
    )
    trainer.train()
    writer.close()
    accumulator = events(tmp_path)
    epoch_tags = {f"epoch/{key}" for key in trainer.metrics}
    assert epoch_tags == {
        "epoch/log_prob",
        "epoch/bits_per_dim",
        "epoch/lr",
        "epoch/val_log_prob",
        "epoch/val_bits_per_dim",
    }
    assert epoch_tags | {"batch/log_prob", "batch/bits_per_dim"} == set(
        accumulator.Tags()["scalars"]
    )
    for key in trainer.metrics:
        scalars = accumulator.Scalars(f"epoch/{key}")
        assert [event.step for event in scalars] == [0, 1, 2]
        np.testing.assert_array_equal(
            np.float32([event.value for event in scalars]),
            np.float32(trainer.history.epoch_values(key)),
        )
    batch = accumulator.Scalars("batch/bits_per_dim")
    assert [event.step for event in batch] == list(range(1, 7))
    np.testing.assert_array_equal(
        np.float32([event.value for event in batch]),
        np.float32([record["bits_per_dim"] for record in trainer.history.batches]),
    )
    # bits per dimension: -log_prob / (64 ln 2) for 1x8x8 images
    last = trainer.metrics
    assert last["val_bits_per_dim"] == pytest.approx(-last["val_log_prob"] / (64 * np.log(2)))


def test_classifier_accuracy_metrics(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    trainer = LayerTrainer(
        models.SoftmaxClassifier(),
        data.labelled_images(40),
        batch_size=20,
        max_epoch=2,
        progress=False,
        seed=0,
        validation_dataset=data.labelled_images(20, seed=5),
        epoch_end_callback=TBMetricsCallback(writer, prefix="metrics/"),
    )
    trainer.train()
    writer.close()
    accumulator = events(tmp_path)
    for key in ("accuracy", "val_accuracy", "val_log_prob"):
        values = [event.value for event in accumulator.Scalars(f"metrics/{key}")]
        np.testing.assert_allclose(values, trainer.history.epoch_values(key), rtol=1e-6)

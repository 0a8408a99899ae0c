"""TBDatasetLogProb{Distribution,Layer}Callback: checks, then values equal the trainer's val_*."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBDatasetLogProbDistributionCallback, TBDatasetLogProbLayerCallback
from pygen.train import DistributionTrainer, LayerTrainer


@pytest.mark.parametrize(
    "cls", [TBDatasetLogProbDistributionCallback, TBDatasetLogProbLayerCallback]
)
def test_rejects_bad_arguments(tmp_path, cls):
    writer = SummaryWriter(tmp_path)
    dataset = TensorDataset(torch.zeros(4, 2))
    with pytest.raises(TypeError, match=r"dataset must be a map-style dataset.*got int"):
        cls(writer, "val", 5)
    with pytest.raises(ValueError, match=r"at least 1 item.*got 0"):
        cls(writer, "val", TensorDataset(torch.zeros(0, 2)))
    with pytest.raises(ValueError, match=r"batch_size must be an int >= 1; got 0"):
        cls(writer, "val", dataset, batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be an int; got float"):
        cls(writer, "val", dataset, batch_size=2.0)
    writer.close()


def test_layer_reverse_inputs_must_be_bool(tmp_path):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match=r"reverse_inputs must be a bool; got str"):
        TBDatasetLogProbLayerCallback(writer, "v", TensorDataset(torch.zeros(2)), 2, "yes")
    writer.close()


def test_distribution_value_equals_the_trainers_validation(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    validation = TensorDataset(data.binary_images(20, seed=1))
    callback = TBDatasetLogProbDistributionCallback(writer, "validation_log_prob", validation, 8)
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        epoch_end_callback=callback,
        validation_dataset=validation,
    )
    trainer.train()
    writer.close()
    scalars = events(tmp_path).Scalars("validation_log_prob")
    assert [event.step for event in scalars] == [0, 1]
    np.testing.assert_allclose(
        [event.value for event in scalars], trainer.history.epoch_values("val_log_prob"), rtol=1e-6
    )
    assert callback.last_metrics["bits_per_dim"] == pytest.approx(
        trainer.metrics["val_bits_per_dim"], rel=1e-9
    )


def test_layer_value_equals_the_trainers_validation(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    validation = data.labelled_images(30, seed=1)
    callback = TBDatasetLogProbLayerCallback(writer, "validation_log_prob", validation, 7)
    trainer = LayerTrainer(
        models.SoftmaxClassifier(),
        data.labelled_images(48),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        callbacks=[callback],
        validation_dataset=validation,
    )
    trainer.train()
    writer.close()
    values = [event.value for event in events(tmp_path).Scalars("validation_log_prob")]
    np.testing.assert_allclose(values, trainer.history.epoch_values("val_log_prob"), rtol=1e-6)
    assert callback.last_metrics["accuracy"] == trainer.metrics["val_accuracy"]


def test_layer_reverse_inputs_models_the_first_element(tmp_path, models, data, events):
    images = data.binary_images(40)
    labels = torch.nn.functional.one_hot(torch.arange(40) % 10, 10).float()
    dataset = TensorDataset(images, labels)
    writer = SummaryWriter(tmp_path)
    callback = TBDatasetLogProbLayerCallback(writer, "val", dataset, reverse_inputs=True)
    trainer = LayerTrainer(
        models.ConditionalBernoulli(),
        dataset,
        batch_size=20,
        max_epoch=1,
        progress=False,
        reverse_inputs=True,
        callbacks=[callback],
        validation_dataset=dataset,
    )
    trainer.train()
    writer.close()
    (event,) = events(tmp_path).Scalars("val")
    assert event.value == pytest.approx(trainer.metrics["val_log_prob"], rel=1e-6)
    assert "bits_per_dim" in callback.last_metrics  # images are the target

"""TBAccuracyCallback: checks, the value against the trainer's val_accuracy, non-categorical."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import distributions as D
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBAccuracyCallback
from pygen.train import LayerTrainer


class Regression(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x):
        return D.Normal(self.linear(x).squeeze(-1), 1.0)


def test_rejects_bad_arguments(tmp_path):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match=r"lacking add_scalar"):
        TBAccuracyCallback(object(), "acc", TensorDataset(torch.zeros(2)))
    with pytest.raises(TypeError, match=r"map-style dataset"):
        TBAccuracyCallback(writer, "acc", [1, 2, 3].__iter__())
    with pytest.raises(ValueError, match=r"batch_size must be an int >= 1; got -1"):
        TBAccuracyCallback(writer, "acc", TensorDataset(torch.zeros(2)), batch_size=-1)
    writer.close()


def test_accuracy_equals_the_trainers_validation_accuracy(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    validation = data.labelled_images(30, seed=2)
    trainer = LayerTrainer(
        models.SoftmaxClassifier(),
        data.labelled_images(60),
        batch_size=12,
        max_epoch=3,
        progress=False,
        seed=0,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.5),
        epoch_end_callback=TBAccuracyCallback(writer, "validation_accuracy", validation, 8),
        validation_dataset=validation,
    )
    trainer.train()
    writer.close()
    scalars = events(tmp_path).Scalars("validation_accuracy")
    assert [event.step for event in scalars] == [0, 1, 2]
    np.testing.assert_allclose(
        [event.value for event in scalars], trainer.history.epoch_values("val_accuracy"), rtol=1e-6
    )
    assert scalars[-1].value > 0.9  # the classes are easy to tell apart


def test_a_non_categorical_output_is_reported(tmp_path):
    writer = SummaryWriter(tmp_path)
    dataset = TensorDataset(torch.rand(8, 2), torch.rand(8))
    trainer = LayerTrainer(
        Regression(),
        dataset,
        batch_size=8,
        max_epoch=1,
        progress=False,
        callbacks=[TBAccuracyCallback(writer, "acc", dataset)],
    )
    with pytest.raises(TypeError, match=r"must be a categorical distribution.*Regression"):
        trainer.train()
    writer.close()

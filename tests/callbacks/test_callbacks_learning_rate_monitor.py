"""LearningRateMonitor: checks, the learning rate of each epoch and batch, several groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import LearningRateMonitor
from pygen.train import DistributionTrainer


def test_rejects_bad_arguments(tmp_path, stand_in):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(
        ValueError, match=r"logging_interval must be one of 'epoch', 'batch'; got 'step'"
    ):
        LearningRateMonitor(writer, logging_interval="step")
    with pytest.raises(
        TypeError, match=r"trainer.optimizer must be a torch.optim.Optimizer.*NoneType"
    ):
        LearningRateMonitor(writer)(stand_in(optimizer=None, epoch=0))
    writer.close()


def test_logs_the_rate_each_epoch_trained_with(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=3,
        progress=False,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.4),
        scheduler=lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5),
        callbacks=[
            LearningRateMonitor(writer),
            LearningRateMonitor(writer, "batch_lr", logging_interval="batch"),
        ],
    )
    trainer.train()
    writer.close()
    accumulator = events(tmp_path)
    epochs = accumulator.Scalars("lr")
    assert [event.step for event in epochs] == [0, 1, 2]
    np.testing.assert_allclose([event.value for event in epochs], [0.4, 0.2, 0.1], rtol=1e-6)
    np.testing.assert_array_equal(
        np.float32([event.value for event in epochs]),
        np.float32(trainer.history.epoch_values("lr")),
    )
    batches = accumulator.Scalars("batch_lr")
    assert [event.step for event in batches] == list(range(1, 7))
    np.testing.assert_allclose(
        [event.value for event in batches], [0.4] * 2 + [0.2] * 2 + [0.1] * 2
    )


def test_one_tag_per_parameter_group(stand_in):
    calls = []
    writer = type("W", (), {"add_scalar": lambda self, *args: calls.append(args)})()
    optimizer = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.01},
        ],
    )
    LearningRateMonitor(writer, "lr")(stand_in(optimizer=optimizer, epoch=2))
    assert calls == [("lr/group_0", 0.1, 2), ("lr/group_1", 0.01, 2)]

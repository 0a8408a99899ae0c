"""Every callback that writes stays quiet on non-zero ranks (trainer.is_main_process False)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from pygen.callbacks import (
    LearningRateMonitor,
    TBAccuracyCallback,
    TBBatchLogProbCallback,
    TBClassifyImagesCallback,
    TBConditionalImagesCallback,
    TBDatasetLogProbDistributionCallback,
    TBDatasetLogProbLayerCallback,
    TBHistogramsCallback,
    TBImagesCallback,
    TBMetricsCallback,
    TBTotalLogProbCallback,
)


class Recorder:
    def __init__(self):
        self.calls = []

    def add_scalar(self, *args):
        self.calls.append(args)

    def add_image(self, *args):
        self.calls.append(args)

    def add_histogram(self, *args):
        self.calls.append(args)


class LinearDensity(torch.nn.Linear):
    """A stand-in trainable with a log_prob (TBDatasetLogProbDistributionCallback checks one)."""

    def log_prob(self, value):
        return -(value**2).sum(-1)


def build(name, writer, folder, data):
    pairs = data.labelled_images(25)
    return {
        "batch": lambda: TBBatchLogProbCallback(writer, "b"),
        "total": lambda: TBTotalLogProbCallback(writer, "t"),
        "dataset_distribution": lambda: TBDatasetLogProbDistributionCallback(
            writer, "d", TensorDataset(torch.zeros(4, 2))
        ),
        "dataset_layer": lambda: TBDatasetLogProbLayerCallback(writer, "l", pairs),
        "accuracy": lambda: TBAccuracyCallback(writer, "a", pairs),
        "images": lambda: TBImagesCallback(writer, "i", folder=folder),
        "conditional": lambda: TBConditionalImagesCallback(writer, "c", folder=folder),
        "classify": lambda: TBClassifyImagesCallback(
            writer, "k", pairs, ["a", "b", "c"], folder=folder
        ),
        "metrics": lambda: TBMetricsCallback(writer, log_batch_metrics=True),
        "lr": lambda: LearningRateMonitor(writer),
        "histograms": lambda: TBHistogramsCallback(writer),
    }[name]()


@pytest.mark.parametrize(
    "name",
    [
        "batch",
        "total",
        "dataset_distribution",
        "dataset_layer",
        "accuracy",
        "images",
        "conditional",
        "classify",
        "metrics",
        "lr",
        "histograms",
    ],
)
def test_quiet_on_non_zero_ranks(name, tmp_path, stand_in, data):
    writer = Recorder()
    folder = tmp_path / "png"
    callback = build(name, writer, folder, data)
    trainer = stand_in(
        is_main_process=False,
        rank=1,
        epoch=0,
        batch_num=1,
        log_prob_item=-1.0,
        metrics={"log_prob": -1.0},
        batch_metrics={"log_prob": -1.0},
        trainable=LinearDensity(2, 2),
        optimizer=None,
    )
    callback(trainer)
    callback.on_batch_end(trainer)
    callback.on_epoch_end(trainer)
    assert writer.calls == []
    assert not folder.exists() or list(folder.iterdir()) == []

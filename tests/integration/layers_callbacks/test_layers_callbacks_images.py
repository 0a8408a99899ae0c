"""pygen.callbacks image callbacks on pygen.layers models trained by pygen.train."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import (
    STORE_EVERYTHING_SIZE_GUIDANCE,
    EventAccumulator,
)
from torch import nn
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import (
    TBAccuracyCallback,
    TBClassifyImagesCallback,
    TBConditionalImagesCallback,
)
from pygen.layers import Categorical, ClassifierNet, IndependentBernoulli, OneHot
from pygen.train import LayerTrainer

ROWS = torch.linspace(0, 7, 10).round().long()


def bar_digits(count: int, size: int, seed: int = 0) -> TensorDataset:
    """Binary images where label k draws a bar in row ``ROWS[k]`` scaled to ``size``."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (count,), generator=generator)
    images = torch.zeros(count, 1, size, size)
    rows = torch.linspace(0, size - 1, 10).round().long()
    images[torch.arange(count), 0, rows[labels]] = 1.0
    flips = torch.rand(images.shape, generator=generator) < 0.05
    return TensorDataset(torch.where(flips, 1.0 - images, images), labels)


def read(logdir):
    accumulator = EventAccumulator(str(logdir), STORE_EVERYTHING_SIZE_GUIDANCE)
    accumulator.Reload()
    return accumulator


def test_classifier_net_with_categorical_titled_grid(tmp_path):
    data = bar_digits(50, 28)
    names = [f"bar {k}" for k in range(10)]
    writer = SummaryWriter(tmp_path / "tb")
    classify = TBClassifyImagesCallback(
        writer, "classified", data, names, dpi=20, folder=tmp_path / "png"
    )
    trainer = LayerTrainer(
        nn.Sequential(ClassifierNet(mnist=True), Categorical()),
        data,
        batch_size=25,
        max_epoch=1,
        progress=False,
        seed=0,
        epoch_end_callback=TBAccuracyCallback(writer, "accuracy", data, batch_size=25),
        callbacks=[classify],
    )
    trainer.train()
    writer.close()
    accumulator = read(tmp_path / "tb")
    (image,) = accumulator.Images("classified")
    assert (image.step, image.width, image.height) == (0, 200, 200)
    (accuracy,) = accumulator.Scalars("accuracy")
    assert 0.0 <= accuracy.value <= 1.0
    with Image.open(tmp_path / "png" / "classified_0000.png") as png:
        assert png.size == (200, 200)
        assert np.asarray(png, dtype=np.float64).std() > 0
    predicted = classify.predict(trainer)
    assert len(predicted) == 25
    assert set(predicted) <= set(names)


def test_conditional_rows_follow_their_labels(tmp_path):
    data = bar_digits(320, 8)
    model = nn.Sequential(OneHot(10), nn.Linear(10, 64), IndependentBernoulli([1, 8, 8]))
    writer = SummaryWriter(tmp_path / "tb")
    callback = TBConditionalImagesCallback(
        writer, "digits", conditionals=torch.arange(10), num_samples=2, padding=0
    )
    trainer = LayerTrainer(
        model,
        data,
        batch_size=32,
        max_epoch=4,
        progress=False,
        seed=0,
        reverse_inputs=True,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.1),
        callbacks=[callback],
    )
    trainer.train()
    writer.close()
    images = read(tmp_path / "tb").Images("digits")
    assert [(image.width, image.height) for image in images] == [(16, 80)] * 4
    grid = callback.make_image(trainer)
    bar_means = []
    for label in range(10):  # row block ``label`` shows label's bar
        block = grid[0, 8 * label : 8 * label + 8]
        bar = block[ROWS[label]].mean()
        others = torch.cat([block[: ROWS[label]], block[ROWS[label] + 1 :]]).mean()
        assert bar > others + 0.4
        bar_means.append(bar)
    assert torch.stack(bar_means).mean() > 0.8


def test_default_one_hot_conditionals(tmp_path):
    model = nn.Sequential(nn.Linear(10, 64), IndependentBernoulli([1, 8, 8]))
    callback = TBConditionalImagesCallback(None, "one_hot", folder=tmp_path)
    trainer = type("Stand-in", (), {"trainable": model, "epoch": 0})()
    callback(trainer)
    with Image.open(tmp_path / "one_hot_0000.png") as png:
        assert png.size == (2 * 18 + 10, 10 * 18 + 10)

"""pygen.callbacks watching a pygen.distributions PixelCNN trained by pygen.train."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import (
    STORE_EVERYTHING_SIZE_GUIDANCE,
    EventAccumulator,
)
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import (
    TBCompletionsCallback,
    TBImagesCallback,
    TBMetricsCallback,
    TBTotalLogProbCallback,
)
from pygen.distributions import PixelCNNBernoulliDistribution
from pygen.train import DistributionTrainer


def bars(count: int, seed: int) -> TensorDataset:
    """Binary 8x8 images with one bright row each."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(count, 1, 8, 8)
    images[torch.arange(count), 0, torch.randint(0, 8, (count,), generator=generator)] = 1.0
    return TensorDataset(images)


def test_pixelcnn_samples_and_metrics_in_tensorboard_and_png(tmp_path):
    writer = SummaryWriter(tmp_path / "tb")
    model = PixelCNNBernoulliDistribution([1, 8, 8], hidden_channels=8, num_layers=2)
    trainer = DistributionTrainer(
        model,
        bars(64, seed=0),
        batch_size=32,
        max_epoch=2,
        progress=False,
        seed=0,
        validation_dataset=bars(16, seed=1),
        callbacks=[
            TBTotalLogProbCallback(writer, "train_epoch_log_prob"),
            TBMetricsCallback(writer),
            TBImagesCallback(writer, "pixelcnn_samples", folder=tmp_path / "png"),
        ],
    )
    trainer.train()
    writer.close()
    accumulator = EventAccumulator(str(tmp_path / "tb"), STORE_EVERYTHING_SIZE_GUIDANCE)
    accumulator.Reload()
    side = 4 * (8 + 10) + 10
    images = accumulator.Images("pixelcnn_samples")
    assert [(image.step, image.width, image.height) for image in images] == [
        (0, side, side),
        (1, side, side),
    ]
    np.testing.assert_array_equal(
        np.float32([event.value for event in accumulator.Scalars("train_epoch_log_prob")]),
        np.float32(trainer.history.epoch_values("log_prob")),
    )
    np.testing.assert_array_equal(
        np.float32([event.value for event in accumulator.Scalars("epoch/val_bits_per_dim")]),
        np.float32(trainer.history.epoch_values("val_bits_per_dim")),
    )
    with Image.open(tmp_path / "png" / "pixelcnn_samples_0001.png") as png:
        assert png.size == (side, side)
        pixels = np.asarray(png, dtype=np.float64)
    assert pixels.std() > 0
    # the samples are binary: only black and white pixels (the padding is black)
    assert set(np.unique(pixels).tolist()) <= {0.0, 255.0}


def test_pixelcnn_completions_keep_the_observed_half_in_the_png(tmp_path):
    """The real model's complete() behind the duck-typed callback: top halves kept."""
    model = PixelCNNBernoulliDistribution([1, 8, 8], hidden_channels=8, num_layers=2)
    held_out = bars(8, seed=1)
    callback = TBCompletionsCallback(
        None, "completions", held_out, num_images=4, padding=0, folder=tmp_path
    )
    DistributionTrainer(
        model, bars(64, seed=0), batch_size=32, max_epoch=1, progress=False, seed=0,
        callbacks=[callback],
    ).train()  # fmt: skip
    with Image.open(tmp_path / "completions_0000.png") as png:
        grid = np.asarray(png.convert("L"), dtype=np.float64) / 255
    assert grid.shape == (4 * 8, 5 * 8)
    images = held_out.tensors[0][:4, 0].numpy()
    for row in range(4):
        cells = grid[8 * row : 8 * row + 8].reshape(8, 5, 8).transpose(1, 0, 2)
        np.testing.assert_allclose(cells[0], images[row], atol=1 / 255)
        for column in (2, 3, 4):  # completions: the observed top half is the image's
            np.testing.assert_allclose(cells[column, :4], images[row, :4], atol=1 / 255)
            assert set(np.unique(cells[column])) <= {0.0, 1.0}

"""TBImagesCallback: argument checks, TensorBoard images and PNG files from real training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBImagesCallback
from pygen.train import DistributionTrainer


def test_rejects_bad_arguments(tmp_path):
    writer = SummaryWriter(tmp_path / "tb")
    with pytest.raises(TypeError, match=r"tb_writer must be a TensorBoard SummaryWriter.*None"):
        TBImagesCallback(None, "samples")
    with pytest.raises(TypeError, match=r"lacking add_image"):
        TBImagesCallback(object(), "samples")
    with pytest.raises(ValueError, match=r"num_samples must be an int >= 1; got 0"):
        TBImagesCallback(writer, "samples", num_samples=0)
    with pytest.raises(ValueError, match=r"value_range must have low < high; got \(1.0, 0.0\)"):
        TBImagesCallback(writer, "samples", value_range=(1, 0))
    with pytest.raises(TypeError, match=r"value_range must be a pair"):
        TBImagesCallback(writer, "samples", value_range=3)
    writer.close()


def test_rejects_a_folder_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=r"folder this process can write to.*a_file"):
        TBImagesCallback(None, "samples", folder=blocker / "images")


def test_writes_tensorboard_images_and_png_files(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path / "tb")
    callback = TBImagesCallback(writer, "samples", folder=tmp_path / "png")
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        callbacks=[callback],
    )
    trainer.train()
    writer.close()
    images = events(tmp_path / "tb").Images("samples")
    side = 4 * (8 + 10) + 10  # 4 x 4 samples of 8 x 8 with 10 pixels of padding
    assert [(image.step, image.width, image.height) for image in images] == [
        (0, side, side),
        (1, side, side),
    ]
    files = sorted(path.name for path in (tmp_path / "png").iterdir())
    assert files == ["samples_0000.png", "samples_0001.png"]
    for name in files:
        with Image.open(tmp_path / "png" / name) as png:
            assert png.size == (side, side)
            assert np.asarray(png, dtype=np.float64).std() > 0
    assert callback.written_paths == [str(tmp_path / "png" / name) for name in files]


def test_folder_only_legacy_callable(tmp_path, models, stand_in):
    callback = TBImagesCallback(None, "s", num_samples=6, nrow=3, padding=0, folder=tmp_path)
    model = models.BernoulliImages()
    model.train()
    callback(stand_in(trainable=model, epoch=7))
    assert model.training  # the training flag is restored after sampling
    with Image.open(tmp_path / "s_0007.png") as png:
        assert png.size == (24, 16)


def test_a_model_without_sample_fails_before_the_first_epoch(tmp_path, models):
    callback = TBImagesCallback(None, "samples", folder=tmp_path)
    trainer = DistributionTrainer(
        models.LogProbOnly(),
        TensorDataset(torch.randn(8)),
        batch_size=4,
        max_epoch=3,
        progress=False,
        callbacks=[callback],
    )
    with pytest.raises(TypeError, match=r"sample\(sample_shape\) method; got LogProbOnly"):
        trainer.train()
    assert trainer.batch_num == 0
    assert trainer.history.epochs == []


def test_samples_that_are_not_images_raise(tmp_path, stand_in):
    class Vectors(torch.nn.Module):
        def sample(self, shape):
            return torch.rand(*shape, 5)

    callback = TBImagesCallback(None, "samples", folder=tmp_path)
    with pytest.raises(ValueError, match=r"shape \[N, C, H, W\].*got shape \[16, 5\]"):
        callback(stand_in(trainable=Vectors(), epoch=0))
    assert list(tmp_path.iterdir()) == []


def test_value_range_maps_to_black_and_white(tmp_path, stand_in):
    class Constant(torch.nn.Module):
        def sample(self, shape):
            return torch.full((*shape, 1, 2, 2), 127.5)

    callback = TBImagesCallback(None, "c", num_samples=1, nrow=1, padding=0, folder=tmp_path)
    grey = callback.make_image(stand_in(trainable=Constant(), epoch=0))
    assert grey.max().item() == 1.0  # 127.5 is above the default range [0, 1]: clipped
    callback = TBImagesCallback(
        None, "c", num_samples=1, nrow=1, padding=0, value_range=(0, 255), folder=tmp_path
    )
    assert callback.make_image(stand_in(trainable=Constant(), epoch=0)).unique().item() == 0.5

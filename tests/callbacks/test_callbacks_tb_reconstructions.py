"""TBReconstructionsCallback: argument checks, the pair layout, TensorBoard and PNG output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBReconstructionsCallback
from pygen.train import DistributionTrainer


class Inverter(torch.nn.Module):
    """reconstruct(x) = 1 - x: easy to tell from the input in the grid."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        assert not self.training, "reconstruct runs in eval mode"
        assert not torch.is_grad_enabled(), "reconstruct runs without gradients"
        return 1 - x


def test_rejects_bad_arguments(tmp_path, data):
    dataset = TensorDataset(data.binary_images(20))
    with pytest.raises(TypeError, match=r"tb_writer must be a TensorBoard SummaryWriter.*None"):
        TBReconstructionsCallback(None, "r", dataset)
    with pytest.raises(ValueError, match=r"num_images must be an int >= 1; got 0"):
        TBReconstructionsCallback(None, "r", dataset, num_images=0, folder=tmp_path)
    with pytest.raises(ValueError, match=r"pairs_per_row must be an int >= 1; got 0"):
        TBReconstructionsCallback(None, "r", dataset, pairs_per_row=0, folder=tmp_path)
    with pytest.raises(ValueError, match=r"dataset must hold at least 16 item\(s\); got 4"):
        TBReconstructionsCallback(None, "r", TensorDataset(torch.rand(4, 1, 8, 8)), folder=tmp_path)
    with pytest.raises(TypeError, match=r"dataset must be a map-style dataset"):
        TBReconstructionsCallback(None, "r", 3, folder=tmp_path)
    with pytest.raises(ValueError, match=r"the dataset images must be images of shape"):
        TBReconstructionsCallback(None, "r", TensorDataset(torch.rand(20, 5)), folder=tmp_path)


def test_inputs_sit_beside_their_reconstructions(tmp_path, data, stand_in):
    images = data.binary_images(20)
    callback = TBReconstructionsCallback(
        None, "r", TensorDataset(images), num_images=6, pairs_per_row=3, padding=0,
        folder=tmp_path,
    )  # fmt: skip
    model = Inverter()
    model.train()
    grid = callback.make_image(stand_in(trainable=model, epoch=0))
    assert model.training  # restored
    assert grid.shape == (3, 2 * 8, 6 * 8)
    for index in range(6):
        row, column = divmod(index, 3)
        cell = grid[0, 8 * row : 8 * row + 8, 16 * column : 16 * column + 16]
        torch.testing.assert_close(cell[:, :8], images[index, 0])
        torch.testing.assert_close(cell[:, 8:], 1 - images[index, 0])


def test_writes_tensorboard_images_and_png_files_during_training(tmp_path, data, events):
    class ReconstructingImages(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.logits = torch.nn.Parameter(torch.zeros(1, 8, 8))

        def log_prob(self, x: torch.Tensor) -> torch.Tensor:
            bernoulli = torch.distributions.Bernoulli(logits=self.logits)
            return torch.distributions.Independent(bernoulli, 3).log_prob(x)

        def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.logits).expand_as(x)

    images = data.binary_images(32)
    writer = SummaryWriter(tmp_path / "tb")
    callback = TBReconstructionsCallback(
        writer, "reconstructions", TensorDataset(images), folder=tmp_path / "png"
    )
    DistributionTrainer(
        ReconstructingImages(),
        TensorDataset(images),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        callbacks=[callback],
    ).train()
    writer.close()
    width, height = 8 * (8 + 2) + 2, 4 * (8 + 2) + 2
    logged = events(tmp_path / "tb").Images("reconstructions")
    assert [(image.step, image.width, image.height) for image in logged] == [
        (0, width, height),
        (1, width, height),
    ]
    files = sorted(path.name for path in (tmp_path / "png").iterdir())
    assert files == ["reconstructions_0000.png", "reconstructions_0001.png"]
    with Image.open(tmp_path / "png" / files[-1]) as png:
        assert png.size == (width, height)
        assert np.asarray(png, dtype=np.float64).std() > 0


def test_a_model_without_reconstruct_fails_before_the_first_epoch(tmp_path, models, data):
    callback = TBReconstructionsCallback(
        None, "r", TensorDataset(data.binary_images(20)), folder=tmp_path
    )
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(8)),
        batch_size=4,
        progress=False,
        callbacks=[callback],
    )
    with pytest.raises(TypeError, match=r"reconstruct\(x\) method .*got BernoulliImages"):
        trainer.train()
    assert trainer.batch_num == 0


def test_reconstructions_of_the_wrong_shape_raise(tmp_path, data, stand_in):
    class Flat(torch.nn.Module):
        def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
            return x.flatten(1)

    callback = TBReconstructionsCallback(
        None, "r", TensorDataset(data.binary_images(20)), folder=tmp_path
    )
    with pytest.raises(ValueError, match=r"shaped like x, \[16, 1, 8, 8\]; got shape \[16, 64\]"):
        callback(stand_in(trainable=Flat(), epoch=0))
    assert list(tmp_path.iterdir()) == []

"""TBCompletionsCallback: argument checks, the grid layout, TensorBoard and PNG output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import distributions as D
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBCompletionsCallback
from pygen.train import DistributionTrainer


class OnesCompleter(torch.nn.Module):
    """Independent Bernoulli pixels whose complete() fills the unobserved part with ones."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(1, 8, 8))
        self.calls: list[dict] = []

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return D.Independent(D.Bernoulli(logits=self.logits), 3).log_prob(x)

    def complete(self, images, observed_mask, sample_shape, **kwargs):
        assert not self.training, "complete runs in eval mode"
        assert not torch.is_grad_enabled(), "complete runs without gradients"
        self.calls.append(kwargs)
        filled = torch.where(observed_mask, images, torch.ones_like(images))
        return filled.expand(*sample_shape, *images.shape).clone()


def test_rejects_bad_arguments(tmp_path, data):
    dataset = TensorDataset(data.binary_images(20))
    with pytest.raises(TypeError, match=r"tb_writer must be a TensorBoard SummaryWriter.*None"):
        TBCompletionsCallback(None, "c", dataset)
    for name in ("num_images", "num_completions"):
        with pytest.raises(ValueError, match=rf"{name} must be an int >= 1; got 0"):
            TBCompletionsCallback(None, "c", dataset, folder=tmp_path, **{name: 0})
    with pytest.raises(ValueError, match=r"dataset must hold at least 8 item\(s\); got 4"):
        TBCompletionsCallback(None, "c", TensorDataset(torch.rand(4, 1, 8, 8)), folder=tmp_path)
    with pytest.raises(ValueError, match=r"temperature must be > 0; got 0"):
        TBCompletionsCallback(None, "c", dataset, temperature=0, folder=tmp_path)
    with pytest.raises(TypeError, match=r"observed_mask must be a bool tensor.*float32"):
        TBCompletionsCallback(
            None, "c", dataset, observed_mask=torch.ones(1, 8, 8), folder=tmp_path
        )
    with pytest.raises(ValueError, match=r"images' shape \[1, 8, 8\]; got \[8, 8\]"):
        TBCompletionsCallback(
            None, "c", dataset, observed_mask=torch.ones(8, 8, dtype=torch.bool), folder=tmp_path
        )
    with pytest.raises(ValueError, match=r"use_conditions=True needs \(image, condition\)"):
        TBCompletionsCallback(None, "c", dataset, use_conditions=True, folder=tmp_path)


def test_rows_hold_image_observed_part_and_completions(tmp_path, data, stand_in):
    images = data.binary_images(20)
    callback = TBCompletionsCallback(
        None, "c", TensorDataset(images), num_images=3, num_completions=2, padding=0,
        temperature=0.5, folder=tmp_path,
    )  # fmt: skip
    model = OnesCompleter()
    model.train()
    grid = callback.make_image(stand_in(trainable=model, epoch=0))
    assert model.training  # restored
    assert grid.shape == (3, 3 * 8, 4 * 8)
    assert model.calls[0]["temperature"] == 0.5
    assert isinstance(model.calls[0]["generator"], torch.Generator)
    for row in range(3):
        cells = grid[0, 8 * row : 8 * row + 8].reshape(8, 4, 8).transpose(0, 1)
        torch.testing.assert_close(cells[0], images[row, 0])
        torch.testing.assert_close(cells[1, :4], images[row, 0, :4])  # the top half, observed
        assert bool((cells[1, 4:] == 0.5).all())  # the rest grey
        for column in (2, 3):
            torch.testing.assert_close(cells[column, :4], images[row, 0, :4])
            assert bool((cells[column, 4:] == 1).all())


def test_writes_tensorboard_images_and_png_files_during_training(tmp_path, data, events):
    images = data.binary_images(32)
    writer = SummaryWriter(tmp_path / "tb")
    callback = TBCompletionsCallback(
        writer, "completions", TensorDataset(images), folder=tmp_path / "png", seed=None
    )
    model = OnesCompleter()
    DistributionTrainer(
        model, TensorDataset(images), batch_size=16, max_epoch=2, progress=False, seed=0,
        callbacks=[callback],
    ).train()  # fmt: skip
    writer.close()
    assert "generator" not in model.calls[0]
    width, height = 5 * (8 + 2) + 2, 8 * (8 + 2) + 2
    logged = events(tmp_path / "tb").Images("completions")
    assert [(image.step, image.width, image.height) for image in logged] == [
        (0, width, height),
        (1, width, height),
    ]
    files = sorted(path.name for path in (tmp_path / "png").iterdir())
    assert files == ["completions_0000.png", "completions_0001.png"]
    with Image.open(tmp_path / "png" / files[-1]) as png:
        assert png.size == (width, height)
        assert np.asarray(png, dtype=np.float64).std() > 0


def test_conditions_go_through_the_layer(tmp_path, data, stand_in):
    class Layer(torch.nn.Module):
        def forward(self, labels):
            completer = OnesCompleter()
            completer.eval()
            completer.labels = labels
            return completer

    images = data.binary_images(8)
    labels = torch.arange(8)
    callback = TBCompletionsCallback(
        None, "c", TensorDataset(images, labels), use_conditions=True, folder=tmp_path
    )
    assert torch.equal(callback.conditions, labels)
    assert callback.make_image(stand_in(trainable=Layer(), epoch=0)).shape[0] == 3


def test_a_model_without_complete_fails_before_the_first_epoch(tmp_path, models, data):
    callback = TBCompletionsCallback(
        None, "c", TensorDataset(data.binary_images(20)), folder=tmp_path
    )
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(8)),
        batch_size=4,
        progress=False,
        callbacks=[callback],
    )
    with pytest.raises(TypeError, match=r"complete\(images, observed_mask.*got BernoulliImages"):
        trainer.train()
    assert trainer.batch_num == 0


def test_completions_of_the_wrong_shape_raise(tmp_path, data, stand_in):
    class Flat(torch.nn.Module):
        def complete(self, images, observed_mask, sample_shape, **kwargs):
            return images.flatten(1)

    callback = TBCompletionsCallback(
        None, "c", TensorDataset(data.binary_images(20)), folder=tmp_path
    )
    with pytest.raises(ValueError, match=r"must return \[3, 8, 1, 8, 8\].*got shape \[8, 64\]"):
        callback(stand_in(trainable=Flat(), epoch=0))
    assert list(tmp_path.iterdir()) == []

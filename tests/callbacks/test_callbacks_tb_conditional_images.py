"""TBConditionalImagesCallback: checks, one row per conditioning input, from real training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import distributions as D
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBConditionalImagesCallback
from pygen.train import LayerTrainer


class EmbeddedLabels(torch.nn.Module):
    """Integer label -> Bernoulli image, through an embedding."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(4, 64)

    def forward(self, labels):
        return D.Independent(D.Bernoulli(logits=self.embedding(labels).reshape(-1, 1, 8, 8)), 3)


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"num_labels must be an int >= 1; got 0"):
        TBConditionalImagesCallback(None, "c", 0, folder=tmp_path)
    with pytest.raises(TypeError, match=r"conditionals must be a torch.Tensor.*got list"):
        TBConditionalImagesCallback(None, "c", conditionals=[1, 2], folder=tmp_path)
    with pytest.raises(ValueError, match=r"at least one conditioning input.*got shape \[0, 10\]"):
        TBConditionalImagesCallback(None, "c", conditionals=torch.zeros(0, 10), folder=tmp_path)
    with pytest.raises(ValueError, match=r"num_samples must be an int >= 1"):
        TBConditionalImagesCallback(None, "c", num_samples=0, folder=tmp_path)


def test_one_row_per_digit_from_real_training(tmp_path, models, data, events):
    labels = torch.nn.functional.one_hot(torch.arange(40) % 10, 10).float()
    dataset = TensorDataset(data.binary_images(40), labels)
    writer = SummaryWriter(tmp_path / "tb")
    callback = TBConditionalImagesCallback(writer, "digits", folder=tmp_path / "png")
    trainer = LayerTrainer(
        models.ConditionalBernoulli(),
        dataset,
        batch_size=20,
        max_epoch=2,
        progress=False,
        reverse_inputs=True,
        epoch_end_callback=callback,
    )
    trainer.train()
    writer.close()
    width, height = 2 * 18 + 10, 10 * 18 + 10  # 2 samples x 10 digits, 8x8 with padding 10
    images = events(tmp_path / "tb").Images("digits")
    assert [(image.step, image.width, image.height) for image in images] == [
        (0, width, height),
        (1, width, height),
    ]
    with Image.open(tmp_path / "png" / "digits_0001.png") as png:
        assert png.size == (width, height)
        assert np.asarray(png, dtype=np.float64).std() > 0


def test_row_i_holds_the_samples_of_conditional_i(stand_in, tmp_path):
    class Echo(torch.nn.Module):
        """Image i is all ones for label i = 1 and all zeros otherwise (deterministic)."""

        def forward(self, labels):
            probs = labels.float().reshape(-1, 1, 1, 1).expand(-1, 1, 2, 2)
            return D.Independent(D.Bernoulli(probs=probs), 3)

    callback = TBConditionalImagesCallback(
        None, "e", conditionals=torch.tensor([0, 1]), padding=0, folder=tmp_path
    )
    grid = callback.make_image(stand_in(trainable=Echo(), epoch=0))
    assert grid.shape == (3, 4, 4)
    assert grid[:, :2].max() == 0
    assert grid[:, 2:].min() == 1


def test_integer_labels(stand_in, tmp_path):
    callback = TBConditionalImagesCallback(
        None, "ints", conditionals=torch.arange(4), num_samples=3, padding=0, folder=tmp_path
    )
    callback(stand_in(trainable=EmbeddedLabels(), epoch=0))
    with Image.open(tmp_path / "ints_0000.png") as png:
        assert png.size == (3 * 8, 4 * 8)


def test_a_model_that_does_not_return_a_distribution(stand_in, tmp_path):
    callback = TBConditionalImagesCallback(None, "c", folder=tmp_path)
    with pytest.raises(TypeError, match=r"must return a distribution with sample\(\); got Tensor"):
        callback(stand_in(trainable=torch.nn.Linear(10, 64), epoch=0))


def test_samples_not_per_conditioning_input(stand_in, tmp_path):
    class Unconditional(torch.nn.Module):
        def forward(self, labels):
            return D.Independent(D.Bernoulli(logits=torch.zeros(1, 8, 8)), 3)

    callback = TBConditionalImagesCallback(None, "c", folder=tmp_path)
    with pytest.raises(ValueError, match=r"must start with \[2, 10\].*got \[2, 1, 8, 8\]"):
        callback(stand_in(trainable=Unconditional(), epoch=0))

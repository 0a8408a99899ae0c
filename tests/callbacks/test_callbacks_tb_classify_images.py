"""TBClassifyImagesCallback: checks, a titled 5x5 grid from real training, categories errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import distributions as D
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBClassifyImagesCallback
from pygen.train import LayerTrainer

LABELS = ["top", "middle", "bottom"]


def test_rejects_bad_arguments(tmp_path, data):
    dataset = data.labelled_images(30)
    with pytest.raises(ValueError, match=r"at least 25 item.*got 24"):
        TBClassifyImagesCallback(None, "c", data.labelled_images(24), LABELS, folder=tmp_path)
    with pytest.raises(TypeError, match=r"class_labels must be a sequence.*got str"):
        TBClassifyImagesCallback(None, "c", dataset, "abc", folder=tmp_path)
    with pytest.raises(ValueError, match=r"class_labels must name at least one class"):
        TBClassifyImagesCallback(None, "c", dataset, [], folder=tmp_path)
    vectors = TensorDataset(torch.rand(30, 5), torch.zeros(30))
    with pytest.raises(ValueError, match=r"dataset images must be images.*got shape \[25, 5\]"):
        TBClassifyImagesCallback(None, "c", vectors, LABELS, folder=tmp_path)


def test_titled_grid_from_real_training(tmp_path, models, data, events):
    dataset = data.labelled_images(60)
    writer = SummaryWriter(tmp_path / "tb")
    callback = TBClassifyImagesCallback(
        writer, "classified", dataset, LABELS, dpi=20, folder=tmp_path / "png"
    )
    trainer = LayerTrainer(
        models.SoftmaxClassifier(),
        dataset,
        batch_size=20,
        max_epoch=2,
        progress=False,
        seed=0,
        callbacks=[callback],
    )
    trainer.train()
    writer.close()
    images = events(tmp_path / "tb").Images("classified")
    assert [(image.step, image.width, image.height) for image in images] == [
        (0, 200, 200),
        (1, 200, 200),
    ]
    with Image.open(tmp_path / "png" / "classified_0001.png") as png:
        assert png.size == (200, 200)
        assert np.asarray(png, dtype=np.float64).std() > 0
    first = torch.stack([dataset[index][0] for index in range(25)])
    expected = trainer.trainable(first).logits.argmax(-1).tolist()
    assert callback.predict(trainer) == [LABELS[index] for index in expected]


def test_output_without_categories(tmp_path, stand_in, data):
    class Regression(torch.nn.Module):
        def forward(self, images):
            return D.Normal(images.flatten(1).mean(1), 1.0)

    callback = TBClassifyImagesCallback(
        None, "c", data.labelled_images(25), LABELS, folder=tmp_path
    )
    with pytest.raises(TypeError, match=r"categorical distribution with logits or probs.*Normal"):
        callback(stand_in(trainable=Regression(), epoch=0))
    assert list(tmp_path.iterdir()) == []


def test_categories_must_match_the_labels(tmp_path, stand_in, models, data):
    callback = TBClassifyImagesCallback(
        None, "c", data.labelled_images(25), ["a", "b"], folder=tmp_path
    )
    with pytest.raises(ValueError, match=r"\[25, 2\].*got logits/probs of shape \[25, 3\]"):
        callback(stand_in(trainable=models.SoftmaxClassifier(3), epoch=0))


def test_probs_only_output_is_accepted(tmp_path, stand_in, data):
    class ProbsOnly(torch.nn.Module):
        def forward(self, images):
            probs = torch.zeros(len(images), 3)
            probs[:, 1] = 1.0
            return type("Out", (), {"probs": probs})()

    callback = TBClassifyImagesCallback(
        None, "c", data.labelled_images(25), LABELS, folder=tmp_path
    )
    assert callback.predict(stand_in(trainable=ProbsOnly(), epoch=0)) == ["middle"] * 25


class _AlwaysFirst(torch.nn.Module):
    """Predicts class 0 for every image."""

    def forward(self, images):
        logits = torch.zeros(len(images), len(LABELS))
        logits[:, 0] = 1.0
        return D.Categorical(logits=logits)


def _red_pixels(grid: torch.Tensor) -> int:
    """Pixels clearly redder than grey: antialiased red text on white is pink, not (1, 0, 0)."""
    red, green, blue = grid
    return int(((red - green > 0.4) & (red - blue > 0.4)).sum())


def test_mistakes_are_titled_in_red_with_the_true_class(tmp_path):
    images = torch.rand(25, 1, 6, 6)
    trainer = type("T", (), {"trainable": _AlwaysFirst(), "epoch": 0})()
    labels = torch.zeros(25, dtype=torch.long)
    right = TBClassifyImagesCallback(
        None, "c", TensorDataset(images, labels), LABELS, dpi=50, folder=tmp_path
    )
    assert right.true_classes == [0] * 25
    assert _red_pixels(right.make_image(trainer)) == 0
    labels[3] = 2  # one mistake
    wrong = TBClassifyImagesCallback(
        None, "c", TensorDataset(images, labels), LABELS, dpi=50, folder=tmp_path
    )
    assert wrong.true_classes[3] == 2
    assert _red_pixels(wrong.make_image(trainer)) > 0
    # without class labels in the dataset there is nothing to mark
    unlabelled = TBClassifyImagesCallback(
        None, "c", TensorDataset(images), LABELS, dpi=50, folder=tmp_path
    )
    assert unlabelled.true_classes is None
    assert _red_pixels(unlabelled.make_image(trainer)) == 0

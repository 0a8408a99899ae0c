"""Conditional generators built from pygen.layers train with LayerTrainer(reverse_inputs=True).

The dataset yields ``(image, label)``; ``reverse_inputs=True`` makes the trainer maximise
``model(label).log_prob(image)``, the original pygen's conditional MNIST example.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.distributions.pixelcnn import PixelCNNBernoulliDistribution
from pygen.layers import ConditionalAutoregressive, IndependentBernoulli, OneHot
from pygen.train import LayerTrainer


def binary_digits(n: int, size: int, seed: int = 0) -> TensorDataset:
    """Binary images where label k draws a bar in row-block k (plus 5% flipped pixels)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=generator)
    images = torch.zeros(n, 1, size, size)
    rows = torch.linspace(0, size - 1, 10).round().long()
    images[torch.arange(n), 0, rows[labels]] = 1.0
    flips = torch.rand(images.shape, generator=generator) < 0.05
    return TensorDataset(torch.where(flips, 1.0 - images, images), labels)


def mean_log_prob(model: nn.Module, data: TensorDataset) -> float:
    images, labels = data.tensors
    with torch.no_grad():
        return model(labels).log_prob(images).mean().item()


def test_one_hot_linear_independent_bernoulli_trains_and_samples() -> None:
    torch.manual_seed(0)
    data = binary_digits(320, 28)
    model = nn.Sequential(OneHot(10), nn.Linear(10, 784), IndependentBernoulli([1, 28, 28]))
    before = mean_log_prob(model, data)
    trainer = LayerTrainer(
        model,
        data,
        batch_size=32,
        max_epoch=4,
        reverse_inputs=True,
        progress=False,
        seed=0,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.1),
    )
    trainer.train()
    after = mean_log_prob(model, data)
    assert after > before + 100.0  # 784 pixels from log(1/2) each towards log(0.95)
    assert "bits_per_dim" in trainer.metrics
    samples = model(torch.arange(10)).sample()
    assert samples.shape == (10, 1, 28, 28)
    assert bool(((samples == 0) | (samples == 1)).all())
    # label k's samples concentrate on its bar
    rows = torch.linspace(0, 27, 10).round().long()
    assert samples[torch.arange(10), 0, rows].mean() > 0.8


def test_conditional_pixelcnn_layer_trains() -> None:
    torch.manual_seed(0)
    data = binary_digits(192, 8)
    pixelcnn = PixelCNNBernoulliDistribution(
        [1, 8, 8], hidden_channels=8, num_layers=2, condition_size=16
    )
    model = nn.Sequential(OneHot(10), nn.Linear(10, 16), ConditionalAutoregressive(pixelcnn))
    before = mean_log_prob(model, data)
    trainer = LayerTrainer(
        model,
        data,
        batch_size=32,
        max_epoch=2,
        reverse_inputs=True,
        progress=False,
        seed=0,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.01),
    )
    trainer.train()
    assert mean_log_prob(model, data) > before + 5.0
    assert model(torch.arange(3)).sample((2,)).shape == (2, 3, 1, 8, 8)


def test_map_conditioned_pixelcnn_layer_trains_on_a_segmentation() -> None:
    """LayerTrainer on (image, map) pairs: the image is its map's mask plus 5% noise.

    A per-pixel condition lets the model copy its map; a vector could not say where.
    """
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    maps = (torch.rand(192, 1, 6, 6, generator=generator) < 0.5).float()
    flips = torch.rand(maps.shape, generator=generator) < 0.05
    images = torch.where(flips, 1.0 - maps, maps)
    data = TensorDataset(images, maps)
    pixelcnn = PixelCNNBernoulliDistribution(
        [1, 6, 6], hidden_channels=8, num_layers=2, condition_channels=4
    )
    model = nn.Sequential(nn.Conv2d(1, 4, 1), ConditionalAutoregressive(pixelcnn))
    before = mean_log_prob(model, data)
    trainer = LayerTrainer(
        model,
        data,
        batch_size=32,
        max_epoch=3,
        reverse_inputs=True,
        progress=False,
        seed=0,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.02),
    )
    trainer.train()
    after = mean_log_prob(model, data)
    assert after > before + 10.0
    with torch.no_grad():
        samples = model(maps[:16]).sample(generator=torch.Generator().manual_seed(0))
    assert samples.shape == (16, 1, 6, 6)
    assert (samples == maps[:16]).float().mean() > 0.8  # the samples follow their maps

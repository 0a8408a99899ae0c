"""Tiny torch.distributions models, datasets and a TensorBoard event reader for the tests.

Only pygen.train, pygen.callbacks and torch are used here (the C environment).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import (
    STORE_EVERYTHING_SIZE_GUIDANCE,
    EventAccumulator,
)
from torch import distributions as D
from torch import nn
from torch.utils.data import TensorDataset


class BernoulliImages(nn.Module):
    """Independent Bernoulli pixels over 1x8x8 images with learnable logits."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(1, 8, 8))

    def distribution(self) -> D.Distribution:
        return D.Independent(D.Bernoulli(logits=self.logits), 3)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self.distribution().log_prob(value)

    def sample(self, sample_shape: tuple[int, ...] | torch.Size = ()) -> torch.Tensor:
        return self.distribution().sample(sample_shape)


class LogProbOnly(nn.Module):
    """A Normal with a learnable mean and no sample method."""

    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return D.Normal(self.loc, 1.0).log_prob(value)


class Gaussian(nn.Module):
    """A unit-variance Normal whose learnable mean starts at ``start``."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.tensor(start))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return D.Normal(self.loc, 1.0).log_prob(value)


class SoftmaxClassifier(nn.Module):
    """Linear-softmax classifier over flattened 1x8x8 images returning a Categorical."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.linear = nn.Linear(64, num_classes)

    def forward(self, images: torch.Tensor) -> D.Categorical:
        return D.Categorical(logits=self.linear(images.flatten(1)))


class ConditionalBernoulli(nn.Module):
    """One-hot label -> Independent Bernoulli over 1x8x8 images."""

    def __init__(self, num_labels: int = 10) -> None:
        super().__init__()
        self.linear = nn.Linear(num_labels, 64)

    def forward(self, one_hot: torch.Tensor) -> D.Distribution:
        logits = self.linear(one_hot).reshape(-1, 1, 8, 8)
        return D.Independent(D.Bernoulli(logits=logits), 3)


class LatentBernoulliImages(nn.Module):
    """A latent-variable model of 1x8x8 binary images: an ELBO, no exact log_prob."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(64, 4)
        self.decoder = nn.Linear(2, 64)


def latent_elbo(
    model: LatentBernoulliImages, batch: Any
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The one-sample ELBO of ``model`` per example, with its KL term as a metric."""
    x = batch[0].flatten(1)
    loc, raw_scale = model.encoder(x).chunk(2, dim=-1)
    posterior = D.Independent(D.Normal(loc, nn.functional.softplus(raw_scale) + 1e-3), 1)
    prior = D.Independent(D.Normal(torch.zeros_like(loc), torch.ones_like(loc)), 1)
    z = posterior.rsample()
    reconstruction = D.Independent(D.Bernoulli(logits=model.decoder(z)), 1).log_prob(x)
    kl = D.kl_divergence(posterior, prior)
    return reconstruction - kl, {"kl": kl.detach()}


def binary_images(count: int, seed: int = 0) -> torch.Tensor:
    """``count`` binary 1x8x8 images: a bright top half with random flips."""
    generator = torch.Generator().manual_seed(seed)
    probs = torch.full((1, 8, 8), 0.2)
    probs[:, :4] = 0.8
    return torch.bernoulli(probs.expand(count, 1, 8, 8), generator=generator)


def labelled_images(count: int, num_classes: int = 3, seed: int = 0) -> TensorDataset:
    """Images whose class is which third of the rows is bright."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (count,), generator=generator)
    images = 0.1 * torch.rand(count, 1, 8, 8, generator=generator)
    for index, label in enumerate(labels.tolist()):
        images[index, 0, 2 * label : 2 * label + 3] += 0.8
    return TensorDataset(images, labels)


def read_events(logdir: str | Path) -> EventAccumulator:
    """Load every event in ``logdir`` with tensorboard's own reader."""
    accumulator = EventAccumulator(str(logdir), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
    accumulator.Reload()
    return accumulator


def fake_trainer(**attributes: Any) -> SimpleNamespace:
    """A stand-in carrying only the named trainer attributes (for argument-level tests)."""
    return SimpleNamespace(**attributes)


@pytest.fixture
def models() -> SimpleNamespace:
    return SimpleNamespace(
        BernoulliImages=BernoulliImages,
        LogProbOnly=LogProbOnly,
        Gaussian=Gaussian,
        SoftmaxClassifier=SoftmaxClassifier,
        ConditionalBernoulli=ConditionalBernoulli,
        LatentBernoulliImages=LatentBernoulliImages,
        latent_elbo=latent_elbo,
    )


@pytest.fixture
def data() -> SimpleNamespace:
    return SimpleNamespace(binary_images=binary_images, labelled_images=labelled_images)


@pytest.fixture
def events() -> Callable[[str | Path], EventAccumulator]:
    return read_events


@pytest.fixture
def stand_in() -> Callable[..., SimpleNamespace]:
    return fake_trainer

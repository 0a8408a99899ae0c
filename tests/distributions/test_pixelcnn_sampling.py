"""The fast PixelCNN sampler against the naive one-pass-per-sub-pixel reference."""

from __future__ import annotations

import itertools

import pytest
import torch

from pygen.distributions import (
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)
from pygen.distributions._pixelcnn_sampling import fast_sample, naive_sample

TINY = {"hidden_channels": 6, "num_layers": 3, "kernel_size": 3}


def _both(model: torch.nn.Module, n: int = 16, seed: int = 0, **kwargs) -> tuple:
    fast = model.sample((n,), generator=torch.Generator().manual_seed(seed), **kwargs)
    naive = model.sample(
        (n,), method="naive", generator=torch.Generator().manual_seed(seed), **kwargs
    )
    return fast, naive


@pytest.mark.slow
def test_fast_equals_naive_bernoulli_28x28() -> None:
    torch.manual_seed(0)
    model = PixelCNNBernoulliDistribution([1, 28, 28], hidden_channels=4, num_layers=2).double()
    fast, naive = _both(model)
    assert fast.shape == (16, 1, 28, 28)
    assert torch.equal(fast, naive)
    assert 0.05 < fast.mean().item() < 0.95  # a real mix of zeros and ones


@pytest.mark.parametrize(
    "model",
    [
        PixelCNNBernoulliDistribution([3, 8, 8], **TINY),
        PixelCNNQuantizedDistribution([3, 8, 8], num_buckets=4, **TINY),
        PixelCNNLogisticMixtureDistribution([3, 8, 8], num_mixtures=2, **TINY),
    ],
    ids=["bernoulli", "quantized", "mixture"],
)
def test_fast_equals_naive_3x8x8(model: torch.nn.Module) -> None:
    fast, naive = _both(model.double())
    assert fast.shape == (16, 3, 8, 8)
    assert torch.equal(fast, naive)
    assert len(fast.unique()) > 1


def test_fast_equals_naive_in_float32() -> None:
    """In float32 the two can differ only if a uniform lands within rounding of a cdf step."""
    torch.manual_seed(1)
    fast, naive = _both(PixelCNNBernoulliDistribution([3, 8, 8], **TINY))
    assert fast.dtype == torch.float32
    assert torch.equal(fast, naive)


def test_fast_equals_naive_with_condition() -> None:
    torch.manual_seed(2)
    model = PixelCNNBernoulliDistribution([2, 5, 6], condition_size=3, **TINY).double()
    condition = torch.eye(3, dtype=torch.float64)
    fast, naive = _both(model, n=4, condition=condition)
    assert fast.shape == (4, 3, 2, 5, 6)
    assert torch.equal(fast, naive)
    assert model.log_prob(fast, condition).shape == (4, 3)


def test_fast_sampler_reproduces_the_full_forward_parameters() -> None:
    """Every parameter the fast sampler used equals the full pass on the final images.

    Stronger than comparing samples: a stale cache that rarely flips a sample still fails.
    """
    torch.manual_seed(3)
    model = PixelCNNQuantizedDistribution([3, 5, 6], num_buckets=5, **TINY).double()
    used = []

    def draw(params: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
        used.append(params.clone())
        return model._draw(params, uniforms)

    uniforms = torch.rand(4, 3, 5, 6, 2, dtype=torch.float64)
    with torch.no_grad():
        x = fast_sample(model.network, uniforms, None, model._to_input, draw)
        full = model.network(model._to_input(x))  # [4, C, P, H, W]
        reference = naive_sample(model.network, uniforms, None, model._to_input, model._draw)
    used_params = torch.stack(used).reshape(5, 6, 3, 4, 5)  # raster then channel order
    torch.testing.assert_close(used_params.permute(3, 2, 4, 0, 1), full, rtol=0, atol=1e-12)
    assert torch.equal(x, reference)


def test_same_seed_same_images_and_mode_restored() -> None:
    model = PixelCNNBernoulliDistribution([1, 6, 6], **TINY)
    a = model.sample((5,), generator=torch.Generator().manual_seed(7))
    b = model.sample((5,), generator=torch.Generator().manual_seed(7))
    c = model.sample((5,), generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    model.eval()
    model.sample((1,))
    assert not model.training


def test_sampling_draws_from_the_model() -> None:
    """Samples of a trained model follow its probabilities (4 binary pixels, 16 images)."""
    torch.manual_seed(4)
    model = PixelCNNBernoulliDistribution([1, 2, 2], **TINY)
    data = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]).reshape(2, 1, 2, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(40):
        optimizer.zero_grad()
        (-model.log_prob(data.repeat(8, 1, 1, 1)).mean()).backward()
        optimizer.step()
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4))).reshape(16, 1, 2, 2)
    probs = model.log_prob(images).exp().detach()
    samples = model.sample((2000,), generator=torch.Generator().manual_seed(0))
    codes = (samples.reshape(2000, 4) * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(-1).long()
    freq = torch.bincount(codes, minlength=16).double() / 2000
    # 2000 draws: the standard error of a frequency is at most 0.0112; 0.056 is 5 sigma
    # (false-failure rate below 1e-5 for the 16 frequencies together).
    assert (freq - probs.double()).abs().max() < 0.056
    assert probs.max() > 0.3  # the model did learn the two training images

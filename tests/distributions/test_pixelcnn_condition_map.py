"""PixelCNN with a spatial conditioning map ``[..., C_cond, H, W]``, and dropout."""

from __future__ import annotations

import itertools

import pytest
import torch

from pygen.distributions import (
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)

TINY = {"hidden_channels": 6, "num_layers": 3, "kernel_size": 3}


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_condition_map_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="condition_size and condition_channels: expected at most"):
        PixelCNNBernoulliDistribution([1, 4, 4], condition_size=2, condition_channels=2)
    with pytest.raises(ValueError, match="condition_channels: expected an int >= 1, found 0"):
        PixelCNNBernoulliDistribution([1, 4, 4], condition_channels=0)
    model = PixelCNNBernoulliDistribution([1, 4, 5], condition_channels=2, **TINY)
    assert model.condition_shape == (2, 4, 5)
    assert model.condition_size is None
    x = torch.zeros(3, 1, 4, 5)
    with pytest.raises(ValueError, match=r"expected a map of shape \[\.\.\., 2, 4, 5\].*\(3, 2\)"):
        model.log_prob(x, torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"found shape \(3, 2, 5, 4\)"):
        model.sample((1,), torch.zeros(3, 2, 5, 4))
    with pytest.raises(ValueError, match="condition_channels=2; expected a map"):
        model.sample((1,))
    with pytest.raises(ValueError, match="expected batch dims that broadcast with those of x"):
        model.log_prob(x, torch.zeros(2, 2, 4, 5))


@pytest.mark.parametrize(
    ("model", "levels"),
    [
        (PixelCNNBernoulliDistribution([1, 2, 3], condition_channels=2, **TINY), [0.0, 1.0]),
        (
            PixelCNNQuantizedDistribution([2, 2, 1], num_buckets=3, condition_channels=2, **TINY),
            [1 / 6, 0.5, 5 / 6],
        ),
        (
            PixelCNNLogisticMixtureDistribution(
                [1, 2, 2], num_mixtures=2, num_bins=3, condition_channels=2, **TINY
            ),
            [0.0, 0.5, 1.0],
        ),
    ],
    ids=["bernoulli", "quantized", "mixture"],
)
def test_exactly_normalised_for_every_condition_map(model: torch.nn.Module, levels) -> None:
    """Summed over every image, the probability is 1 for each of 6 random condition maps."""
    torch.manual_seed(0)
    model = model.double()
    with torch.no_grad():  # a strong map so normalisation is tested off the trivial case
        model.network.condition_map.weight.mul_(5.0)
    c, h, w = model.event_shape
    images = torch.tensor(list(itertools.product(levels, repeat=c * h * w)), dtype=torch.float64)
    images = images.reshape(-1, 1, c, h, w)
    maps = 3.0 * torch.randn(6, 2, h, w, dtype=torch.float64)
    probs = model.log_prob(images, maps).exp().detach()  # [images, maps]
    assert probs.shape == (len(images), 6)
    torch.testing.assert_close(probs.sum(0), torch.ones(6, dtype=torch.float64), rtol=0, atol=1e-9)
    # the map matters, and differently at different positions
    assert (probs[:, 0] - probs[:, 1]).abs().max() > 1e-3


def test_each_pixel_reads_its_own_map_position() -> None:
    """Changing the map at the last pixel changes only that pixel's conditional."""
    torch.manual_seed(1)
    model = PixelCNNBernoulliDistribution([1, 3, 3], condition_channels=1, **TINY).double()
    x = model.sample((4,), torch.zeros(1, 3, 3, dtype=torch.float64), generator=_seeded(0))
    maps = torch.zeros(2, 1, 3, 3, dtype=torch.float64)
    maps[1, 0, 2, 2] = 4.0
    with torch.no_grad():
        per_subpixel = torch.stack(
            [model._subpixel_log_probs(x, m.expand(4, 1, 3, 3)) for m in maps]
        )
    changed = (per_subpixel[0] - per_subpixel[1]).abs().amax(dim=0)[0]  # [H, W]
    assert changed[2, 2] > 1e-3
    changed[2, 2] = 0
    assert changed.max() == 0


@pytest.mark.parametrize(
    "model",
    [
        PixelCNNBernoulliDistribution([2, 5, 6], condition_channels=3, **TINY),
        PixelCNNQuantizedDistribution([2, 5, 6], num_buckets=4, condition_channels=3, **TINY),
        PixelCNNLogisticMixtureDistribution(
            [2, 5, 6], num_mixtures=2, condition_channels=3, **TINY
        ),
    ],
    ids=["bernoulli", "quantized", "mixture"],
)
def test_fast_samples_and_completions_equal_naive_with_a_map(model: torch.nn.Module) -> None:
    torch.manual_seed(2)
    model = model.double()
    maps = torch.randn(4, 3, 5, 6, dtype=torch.float64)
    fast = model.sample((2,), maps, generator=_seeded(3))
    naive = model.sample((2,), maps, method="naive", generator=_seeded(3))
    assert fast.shape == (2, 4, 2, 5, 6)
    assert torch.equal(fast, naive)
    assert model.log_prob(fast, maps).shape == (2, 4)
    mask = torch.zeros(2, 5, 6, dtype=torch.bool)
    mask[:, :3] = True
    done = model.complete(fast[0], mask, (), maps, generator=_seeded(4))
    done_naive = model.complete(fast[0], mask, (), maps, method="naive", generator=_seeded(4))
    assert torch.equal(done, done_naive)
    assert torch.equal(done[:, :, :3], fast[0][:, :, :3])


def test_dropout_is_active_in_training_only_and_never_in_sampling() -> None:
    torch.manual_seed(3)
    model = PixelCNNQuantizedDistribution([1, 4, 4], num_buckets=4, dropout_p=0.5, **TINY)
    plain = PixelCNNQuantizedDistribution([1, 4, 4], num_buckets=4, **TINY)
    plain.load_state_dict(model.state_dict())
    x = plain.sample((3,), generator=_seeded(0))
    model.train()
    assert not torch.equal(model.log_prob(x), model.log_prob(x))  # a new mask per call
    model.eval()
    torch.testing.assert_close(model.log_prob(x), plain.log_prob(x), rtol=0, atol=0)
    model.train()
    assert torch.equal(model.sample((3,), generator=_seeded(0)), x)
    mask = torch.ones(1, 4, 4, dtype=torch.bool)
    mask[0, 2:] = False
    assert torch.equal(
        model.complete(x, mask, generator=_seeded(1)), plain.complete(x, mask, generator=_seeded(1))
    )
    assert model.training  # the mode is restored
    with pytest.raises(ValueError, match=r"dropout_p: expected a float in \[0, 1\), found 1.0"):
        PixelCNNBernoulliDistribution([1, 4, 4], dropout_p=1.0)
    with pytest.raises(TypeError, match="dropout_p: expected a float, found str"):
        PixelCNNBernoulliDistribution([1, 4, 4], dropout_p="0.1")

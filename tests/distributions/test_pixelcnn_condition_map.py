"""PixelCNN with a spatial conditioning map ``[..., C_cond, H, W]``, and dropout."""

from __future__ import annotations

import itertools

import pytest
import torch
from scipy import stats

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
    ("make", "levels"),
    [
        (
            lambda: PixelCNNBernoulliDistribution([1, 2, 3], condition_channels=2, **TINY),
            [0.0, 1.0],
        ),
        (
            lambda: PixelCNNQuantizedDistribution(
                [2, 2, 1], num_buckets=3, condition_channels=2, **TINY
            ),
            [1 / 6, 0.5, 5 / 6],
        ),
        (
            lambda: PixelCNNLogisticMixtureDistribution(
                [1, 2, 2], num_mixtures=2, num_bins=3, condition_channels=2, **TINY
            ),
            [0.0, 0.5, 1.0],
        ),
    ],
    ids=["bernoulli", "quantized", "mixture"],
)
def test_exactly_normalised_for_every_condition_map(make, levels) -> None:
    """Summed over every image, the probability is 1 for each of 6 random condition maps."""
    torch.manual_seed(0)  # the weights are made here, whatever the collection order
    model = make().double()
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


def test_prefix_completion_given_a_map_matches_the_exact_conditional() -> None:
    """Chi-square test of 10000 completions against enumeration, for two condition maps.

    Bernoulli ``[1, 2, 3]``: the first two pixels observed, the 16 configurations of the
    other four compared with ``p(rest | prefix, map)`` from ``log_prob`` of all 64
    images. Fails below p = 1e-4 (false-failure rate 1e-4 per map; fixed seeds). The model
    is first fitted to copy its map, so the two maps' conditionals differ by a total
    variation > 0.1 and a completion that ignored the map fails.
    """
    torch.manual_seed(5)
    model = PixelCNNBernoulliDistribution([1, 2, 3], condition_channels=2, **TINY).double()
    # Train briefly to copy the sign of the map's first channel (10% noise), so that the
    # conditional depends strongly on the map.
    train_maps = torch.randn(256, 2, 2, 3, generator=_seeded(7), dtype=torch.float64)
    flips = torch.rand(256, 1, 2, 3, generator=_seeded(8)) < 0.1
    train_images = ((train_maps[:, :1] > 0) ^ flips).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(40):
        optimizer.zero_grad()
        (-model.log_prob(train_images, train_maps).mean()).backward()
        optimizer.step()
    grid = torch.tensor(list(itertools.product([0.0, 1.0], repeat=6)), dtype=torch.float64)
    images = grid.reshape(64, 1, 2, 3)
    mask = torch.zeros(1, 2, 3, dtype=torch.bool)
    mask[0, 0, :2] = True
    prefix = (grid[:, 0] == 1) & (grid[:, 1] == 0)
    maps = torch.randn(2, 2, 2, 3, generator=_seeded(6), dtype=torch.float64)
    conditionals = []
    for index, condition in enumerate(maps):
        probs = model.log_prob(images[prefix], condition).exp().detach()
        exact = probs / probs.sum()
        conditionals.append(exact)
        n = 10000
        out = model.complete(images[prefix][0], mask, (n,), condition, generator=_seeded(index))
        flat = out.reshape(n, 6)
        assert bool((flat[:, 0] == 1).all())
        assert bool((flat[:, 1] == 0).all())
        codes = (flat[:, 2:].long() * torch.tensor([8, 4, 2, 1])).sum(-1)
        counts = torch.bincount(codes, minlength=16).double()
        expected = exact * n  # grid rows are in the same binary order as the codes
        small = expected < 5
        f_obs = torch.cat([counts[~small], counts[small].sum()[None]])
        f_exp = torch.cat([expected[~small], expected[small].sum()[None]])
        keep = f_exp > 0
        assert stats.chisquare(f_obs[keep].numpy(), f_exp[keep].numpy()).pvalue > 1e-4
    assert (conditionals[0] - conditionals[1]).abs().sum().item() / 2 > 0.1

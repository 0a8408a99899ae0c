"""PixelCNN completion and temperature: fast == naive, observed kept, exact conditionals."""

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
from pygen.distributions._discretized import snap_to_grid
from pygen.distributions._pixelcnn_sampling import fast_sample, naive_sample

TINY = {"hidden_channels": 6, "num_layers": 3, "kernel_size": 3}


def _models(shape: list[int], **extra) -> dict[str, torch.nn.Module]:
    return {
        "bernoulli": PixelCNNBernoulliDistribution(shape, **TINY, **extra),
        "quantized": PixelCNNQuantizedDistribution(shape, num_buckets=4, **TINY, **extra),
        "mixture": PixelCNNLogisticMixtureDistribution(
            shape, num_mixtures=2, num_bins=16, **TINY, **extra
        ),
    }


HEADS = ["bernoulli", "quantized", "mixture"]


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _fit_copies(model: torch.nn.Module, values: torch.Tensor, steps: int = 40) -> torch.nn.Module:
    """Train briefly on images whose sub-pixels mostly copy the first one.

    Random weights give conditionals that hardly depend on the past; after this the
    conditional of the rest depends strongly on the observed prefix.
    """
    generator = _seeded(0)
    shape = model.event_shape
    first = values[torch.randint(len(values), (256,), generator=generator)]
    noise = values[torch.randint(len(values), (256, *shape), generator=generator)]
    keep = torch.rand(256, *shape, generator=generator) < 0.7
    data = torch.where(keep, first[:, None, None, None], noise).to(torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        (-model.log_prob(data).mean()).backward()
        optimizer.step()
    return model


# ----------------------------------------------------------------- validation


def test_completion_argument_errors_name_what_was_expected() -> None:
    model = PixelCNNBernoulliDistribution([1, 4, 4], **TINY)
    x = torch.zeros(2, 1, 4, 4)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    with pytest.raises(TypeError, match=r"x: expected a torch\.Tensor"):
        model.complete([0.0], mask)
    with pytest.raises(ValueError, match=r"x: expected shape \[\.\.\., 1, 4, 4\]"):
        model.complete(torch.zeros(2, 4, 4), mask)
    with pytest.raises(TypeError, match=r"observed_mask: expected dtype torch\.bool"):
        model.complete(x, mask.float())
    with pytest.raises(ValueError, match=r"observed_mask: expected a shape ending in .*\(4, 4\)"):
        model.complete(x, torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"observed_mask: expected batch dims that broadcast"):
        model.complete(x, torch.zeros(3, 1, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="binary values"):
        model.complete(torch.full((1, 4, 4), 0.5), torch.ones(1, 4, 4, dtype=torch.bool))
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="temperature: expected a positive finite float"):
            model.complete(x, mask, temperature=bad)
        with pytest.raises(ValueError, match="temperature: expected a positive finite float"):
            model.sample((1,), temperature=bad)
    with pytest.raises(TypeError, match="temperature: expected a positive float, found str"):
        model.sample((1,), temperature="1")
    with pytest.raises(ValueError, match="method: expected one of"):
        model.complete(x, mask, method="slow")


def test_unobserved_entries_may_hold_anything() -> None:
    model = PixelCNNQuantizedDistribution([1, 3, 3], num_buckets=3, **TINY)
    images = torch.full((1, 3, 3), float("nan"))
    images[0, 0, 0] = 0.9
    mask = torch.zeros(1, 3, 3, dtype=torch.bool)
    mask[0, 0, 0] = True
    out = model.complete(images, mask, (4,))
    assert bool(torch.isfinite(out).all())
    assert bool((out[:, 0, 0, 0] == 0.9).all())


@pytest.mark.parametrize(
    ("images", "mask", "condition", "sample_shape", "expected"),
    [
        ((1, 4, 4), (1, 4, 4), None, (), (1, 4, 4)),
        ((2, 1, 4, 4), (1, 4, 4), None, (3,), (3, 2, 1, 4, 4)),
        ((2, 1, 1, 4, 4), (3, 1, 4, 4), None, (), (2, 3, 1, 4, 4)),
        ((1, 4, 4), (1, 4, 4), (5, 2), (2,), (2, 5, 1, 4, 4)),
        ((5, 1, 4, 4), (1, 4, 4), (5, 2), (0,), (0, 5, 1, 4, 4)),
    ],
    ids=str,
)
def test_completion_shapes_follow_sample_semantics(
    images, mask, condition, sample_shape, expected
) -> None:
    condition_size = None if condition is None else condition[-1]
    model = PixelCNNBernoulliDistribution([1, 4, 4], condition_size=condition_size, **TINY)
    cond = None if condition is None else torch.randn(condition)
    out = model.complete(
        torch.ones(images), torch.rand(mask) < 0.5, sample_shape, cond, generator=_seeded(0)
    )
    assert out.shape == expected


# ------------------------------------------------- fast == naive, observed kept


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("conditional", [False, True], ids=["plain", "vector"])
def test_fast_completion_equals_naive_and_keeps_the_observed(head: str, conditional: bool) -> None:
    torch.manual_seed(0)
    model = _models([3, 5, 6], condition_size=2 if conditional else None)[head].double()
    condition = torch.randn(4, 2, dtype=torch.float64) if conditional else None
    images = model.sample((4,) if condition is None else (), condition, generator=_seeded(1))
    mask = torch.rand(4, 3, 5, 6, generator=_seeded(2)) < 0.5  # scattered, per image
    mask[:, :, :2] = True  # and two rows observed in every image
    kwargs = {"condition": condition, "sample_shape": (2,), "temperature": 0.7}
    fast = model.complete(images, mask, generator=_seeded(3), **kwargs)
    naive = model.complete(images, mask, method="naive", generator=_seeded(3), **kwargs)
    assert fast.shape == (2, 4, 3, 5, 6)
    assert torch.equal(fast, naive)
    expanded = images.expand_as(fast)
    assert torch.equal(fast[mask.expand_as(fast)], expanded[mask.expand_as(fast)])
    assert not torch.equal(fast, expanded)  # something was drawn
    assert not torch.equal(fast[0], fast[1])  # two completions differ


@pytest.mark.parametrize(
    "observed_rows",
    [range(0, 6), range(2, 7), range(8, 10), [0, 3, 4, 5, 9]],
    ids=["top", "middle-band", "bottom", "scattered-rows"],
)
def test_fast_completion_uses_the_full_forward_parameters_around_observed_rows(
    observed_rows,
) -> None:
    """Rows observed in every image skip work; every parameter used is still exact.

    The fast path advances the vertical stack over observed rows in one pass that computes
    only the rows a later row reads (pruned per layer for 4 layers, k = 5), and does nothing
    after the last drawn row. Each parameter it drew from must equal the full forward pass
    on the finished images, which a stale or skipped cache row would break.
    """
    torch.manual_seed(4)
    model = PixelCNNQuantizedDistribution(
        [2, 10, 5], num_buckets=5, hidden_channels=6, num_layers=4, kernel_size=5
    ).double()
    images = model.sample((3,), generator=_seeded(0))
    mask = torch.zeros(3, 2, 10, 5, dtype=torch.bool)
    mask[:, :, list(observed_rows)] = True
    uniforms = torch.rand(3, 2, 10, 5, 2, generator=_seeded(1), dtype=torch.float64)
    used = []

    def draw(params: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        used.append(params.clone())
        return model._draw(params, u)

    with torch.no_grad():
        x = fast_sample(model.network, uniforms, None, model._to_input, draw, images, mask)
        full = model.network(model._to_input(x))  # [N, C, P, H, W]
        naive = naive_sample(
            model.network, uniforms, None, model._to_input, model._draw, images, mask
        )
    drawn = [
        (c, i, j) for i in range(10) for j in range(5) for c in range(2) if not mask[0, c, i, j]
    ]
    assert len(used) == len(drawn)
    for params, (c, i, j) in zip(used, drawn, strict=True):
        torch.testing.assert_close(params, full[:, c, :, i, j], rtol=0, atol=1e-12)
    assert torch.equal(x, naive)
    assert torch.equal(x[mask], images[mask])


@pytest.mark.parametrize("head", HEADS)
def test_channel_prefix_masks_fast_equals_naive(head: str) -> None:
    """Observed first channels of a pixel, later ones drawn (the per-channel cache path)."""
    torch.manual_seed(1)
    model = _models([3, 4, 4])[head].double()
    images = model.sample((3,), generator=_seeded(0))
    mask = torch.zeros(3, 3, 4, 4, dtype=torch.bool)
    mask[:, :2] = True  # channels 0 and 1 everywhere: only channel 2 is drawn
    mask[1, 2, 1] = True  # and row 1 of channel 2 in image 1
    fast = model.complete(images, mask, generator=_seeded(5))
    naive = model.complete(images, mask, method="naive", generator=_seeded(5))
    assert torch.equal(fast, naive)
    assert torch.equal(fast[mask], images[mask])


@pytest.mark.parametrize("head", HEADS)
def test_empty_mask_and_temperature_one_reproduce_sample(head: str) -> None:
    torch.manual_seed(2)
    model = _models([2, 4, 5])[head].double()
    reference = model.sample((6,), generator=_seeded(4))
    assert torch.equal(model.sample((6,), generator=_seeded(4), temperature=1.0), reference)
    nothing = torch.zeros(2, 4, 5, dtype=torch.bool)
    completed = model.complete(torch.zeros(2, 4, 5), nothing, (6,), generator=_seeded(4))
    assert torch.equal(completed, reference)
    hotter = model.sample((6,), generator=_seeded(4), temperature=3.0)
    assert not torch.equal(hotter, reference)  # the temperature does reach the draws


# ------------------------------------------------ the exact conditional, tested


def _codes(values: torch.Tensor, levels: int) -> torch.Tensor:
    """Index of each configuration ``[N, k]`` of level indices in ``product(range(levels))``."""
    weights = levels ** torch.arange(values.shape[-1] - 1, -1, -1)
    return (values.long() * weights).sum(-1)


@pytest.mark.parametrize(
    ("head", "shape", "levels", "observed"),
    [
        ("bernoulli", [2, 2, 2], 2, 3),  # pixel (0,0) and channel 0 of pixel (0,1) observed
        ("quantized", [1, 2, 2], 3, 1),
        ("mixture", [1, 2, 2], 3, 2),
    ],
)
def test_prefix_completion_matches_the_exact_conditional(
    head: str, shape: list[int], levels: int, observed: int
) -> None:
    """Chi-square goodness of fit of 20000 completions against enumeration.

    The conditional ``p(rest | prefix)`` of every configuration of the unobserved
    sub-pixels is computed exactly from ``log_prob`` of all ``levels ** (C*H*W)`` images.
    Cells expected below 5 counts are pooled. The test fails below p = 1e-4, so a correct
    sampler fails it with probability 1e-4 per prefix (the seeds are fixed, so the
    outcome is reproducible). A completion that ignored the prefix fails: the
    conditionals of the two prefixes differ from each other by a total variation > 0.1.
    """
    torch.manual_seed(3)
    to_value = {2: lambda k: k, 3: lambda k: (k + 0.5) / 3 if head == "quantized" else k / 2}
    extra = {"num_buckets": 3} if head == "quantized" else {}
    if head == "mixture":
        extra = {"num_mixtures": 2, "num_bins": 3}
    cls = {
        "bernoulli": PixelCNNBernoulliDistribution,
        "quantized": PixelCNNQuantizedDistribution,
        "mixture": PixelCNNLogisticMixtureDistribution,
    }[head]
    model = cls(shape, **TINY, **extra).double()
    model = _fit_copies(model, to_value[levels](torch.arange(levels, dtype=torch.float64)))
    c, h, w = shape
    d = c * h * w
    grid = torch.tensor(list(itertools.product(range(levels), repeat=d)), dtype=torch.float64)
    # Raster order is (row, column, channel); images are channel-first.
    as_images = grid.reshape(-1, h, w, c).permute(0, 3, 1, 2)
    values = to_value[levels](as_images)
    probs = model.log_prob(values).exp().detach()
    assert abs(probs.sum().item() - 1.0) < 1e-9
    mask_raster = torch.zeros(d, dtype=torch.bool)
    mask_raster[:observed] = True
    mask = mask_raster.reshape(h, w, c).permute(2, 0, 1)
    n = 20000
    conditionals = []
    for prefix in (0, levels**observed - 1):  # two different observed prefixes
        rows = _codes(grid[:, :observed], levels) == prefix
        exact = probs[rows] / probs[rows].sum()
        conditionals.append(exact)
        image = values[rows][0]
        out = model.complete(image, mask, (n,), generator=_seeded(prefix + 10))
        raster = out.permute(0, 2, 3, 1).reshape(n, d)
        levels_drawn = {
            2: raster,
            3: torch.floor(raster * 3) if head == "quantized" else torch.round(raster * 2),
        }[levels]
        assert torch.equal(levels_drawn[:, :observed], grid[rows][0, :observed].expand(n, -1))
        counts = torch.bincount(
            _codes(levels_drawn[:, observed:], levels), minlength=levels ** (d - observed)
        ).double()
        expected = exact * n
        small = expected < 5
        f_obs = torch.cat([counts[~small], counts[small].sum()[None]])
        f_exp = torch.cat([expected[~small], expected[small].sum()[None]])
        keep = f_exp > 0
        assert counts[expected == 0].sum() == 0
        result = stats.chisquare(f_obs[keep].numpy(), f_exp[keep].numpy())
        assert result.pvalue > 1e-4, (prefix, result)
    assert (conditionals[0] - conditionals[1]).abs().sum().item() / 2 > 0.1


# ------------------------------------------------------------------- T -> 0


def _greedy(model: torch.nn.Module, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Greedy decoding by full network passes: each unobserved sub-pixel its mode."""
    x = torch.where(mask, images, torch.zeros_like(images))
    _, c_, h_, w_ = x.shape
    with torch.no_grad():
        for i, j, c in itertools.product(range(h_), range(w_), range(c_)):
            params = model.network(model._to_input(x))[:, c, :, i, j]
            if isinstance(model, PixelCNNBernoulliDistribution):
                value = (params[:, 0] > 0).double()
            elif isinstance(model, PixelCNNQuantizedDistribution):
                value = (params.argmax(-1).double() + 0.5) / model.num_buckets
            else:
                logits, loc, _ = model._split(params)
                best = loc.gather(-1, logits.argmax(-1, keepdim=True))[:, 0]
                value = snap_to_grid(best, model.num_bins)
            x[:, c, i, j] = torch.where(mask[:, c, i, j], x[:, c, i, j], value)
    return x


@pytest.mark.parametrize("head", HEADS)
def test_low_temperature_approaches_greedy_decoding(head: str) -> None:
    torch.manual_seed(4)
    model = _models([2, 4, 4])[head].double()
    images = model.sample((5,), generator=_seeded(0))
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, :2] = True
    greedy = _greedy(model, images, mask.expand_as(images))
    cold = [
        model.complete(images, mask, temperature=1e-6, generator=_seeded(seed)) for seed in (1, 2)
    ]
    if head == "quantized":  # the value inside the drawn bucket stays uniform
        cold = [model._bucket(x) for x in cold]
        greedy = model._bucket(greedy)
    assert torch.equal(cold[0], greedy)
    assert torch.equal(cold[1], greedy)  # the seed no longer matters
    warm = model.complete(images, mask, temperature=1.0, generator=_seeded(1))
    if head == "quantized":
        warm = model._bucket(warm)
    assert not torch.equal(warm, greedy)


def test_stray_one_in_the_images_against_the_condition_is_refused() -> None:
    model = PixelCNNBernoulliDistribution([1, 4, 4], condition_size=2, **TINY)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"x has shape \[5, 1, 1, 4, 4\]"):
        model.complete(torch.zeros(5, 1, 1, 4, 4), mask, condition=torch.zeros(5, 2))
    assert model.complete(torch.zeros(5, 1, 4, 4), mask, condition=torch.zeros(5, 2)).shape == (
        5,
        1,
        4,
        4,
    )


@pytest.mark.parametrize("call", ["sample", "complete"])
def test_generator_must_be_a_torch_generator(call: str) -> None:
    from pygen.distributions import MADE

    pixelcnn = PixelCNNBernoulliDistribution([1, 4, 4], **TINY)
    made = MADE([6], hidden_sizes=[8])
    for model, x in ((pixelcnn, torch.zeros(1, 4, 4)), (made, torch.zeros(6))):
        mask = torch.zeros_like(x, dtype=torch.bool)
        run = getattr(model, call)
        args = ((2,),) if call == "sample" else (x, mask)
        with pytest.raises(TypeError, match=r"generator: expected a torch\.Generator.*found int"):
            run(*args, generator=0)

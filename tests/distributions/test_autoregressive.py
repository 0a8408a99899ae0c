"""One autoregressive contract: MADE, the PixelCNNs and MAF sample and complete alike.

``pygen.distributions._autoregressive.AutoregressiveModel`` holds ``sample`` and
``complete`` once; these tests hold the three model families to the same signature, the
same checks and messages, and seeded reproducibility, then check MAF's completion against
the exact conditional of a 2-D flow by quadrature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.distributions import Independent, Normal

from pygen.distributions import (
    MADE,
    MAF,
    Flow,
    Glow,
    PixelCNNBernoulliDistribution,
    PixelCNNQuantizedDistribution,
    Reverse,
)
from pygen.distributions._autoregressive import AutoregressiveModel

MODELS: dict[str, Callable[[], nn.Module]] = {
    "pixelcnn": lambda: PixelCNNBernoulliDistribution([1, 3, 3], hidden_channels=4, num_layers=2),
    "pixelcnn_quantized": lambda: PixelCNNQuantizedDistribution(
        [1, 3, 3], num_buckets=4, hidden_channels=4, num_layers=2
    ),
    "made": lambda: MADE([9], hidden_sizes=[8]),
    "maf": lambda: MAF(9, num_transforms=2, hidden_sizes=[8], alternate_order=False),
}


def _model(name: str) -> nn.Module:
    torch.manual_seed(0)
    model = MODELS[name]()
    if name == "maf":  # away from the identity map it starts at
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0.0, 0.3)
    return model


def _seed(value: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(value)


def _prefix_mask(model: nn.Module, observed: int) -> torch.Tensor:
    """The first ``observed`` entries of the model's order (raster order / dims 0 ..)."""
    mask = torch.zeros(model.event_shape, dtype=torch.bool)
    mask.view(-1)[:observed] = True
    return mask


def test_sample_and_complete_are_one_function_with_one_signature() -> None:
    signatures = {}
    for name in MODELS:
        model = _model(name)
        assert isinstance(model, AutoregressiveModel)
        assert type(model).sample is AutoregressiveModel.sample
        assert type(model).complete is AutoregressiveModel.complete
        signatures[name] = (
            str(inspect.signature(model.sample)),
            str(inspect.signature(model.complete)),
        )
    assert len(set(signatures.values())) == 1, signatures
    sample, complete = next(iter(signatures.values()))
    assert sample.startswith("(sample_shape: 'Sequence[int] | torch.Size' = (), condition")
    assert complete.startswith("(x: 'Tensor', observed_mask: 'Tensor', sample_shape")
    parameters = inspect.signature(_model("maf").complete).parameters
    keyword_only = [n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only == ["temperature", "method", "generator"]


@pytest.mark.parametrize("name", MODELS)
def test_the_same_generator_gives_the_same_draw(name: str) -> None:
    model = _model(name)
    first = model.sample((5,), generator=_seed(1))
    assert torch.equal(first, model.sample((5,), generator=_seed(1)))
    assert not torch.equal(first, model.sample((5,), generator=_seed(2)))
    assert torch.allclose(first, model.sample((5,), generator=_seed(1), method="naive"), atol=1e-5)
    x = model.sample((2,), generator=_seed(3))
    mask = _prefix_mask(model, 4)
    done = model.complete(x, mask, (3,), generator=_seed(4))
    assert done.shape == (3, 2, *model.event_shape)
    assert torch.equal(done, model.complete(x, mask, (3,), generator=_seed(4)))
    assert torch.equal(done[..., mask], x[..., mask].expand(3, 2, 4))
    nothing = torch.zeros(model.event_shape, dtype=torch.bool)
    assert torch.equal(model.complete(x[0], nothing, (5,), generator=_seed(1)), first)
    assert model.training  # generation runs in eval mode and restores the mode


@pytest.mark.parametrize("name", MODELS)
def test_a_wrong_shape_observed_mask_is_refused_naming_both_shapes(name: str) -> None:
    model = _model(name)
    event = tuple(model.event_shape)
    x = torch.zeros(event)
    wrong = torch.ones(*event[:-1], event[-1] + 1, dtype=torch.bool)
    expected = (
        (
            rf"^observed_mask: expected a shape ending in event_shape {event}, "
            rf"found shape {tuple(wrong.shape)}$"
        )
        .replace("(", r"\(")
        .replace(")", r"\)")
    )
    with pytest.raises(ValueError, match=expected):
        model.complete(x, wrong)
    with pytest.raises(TypeError, match=r"^observed_mask: expected dtype torch.bool"):
        model.complete(x, torch.ones(event))
    with pytest.raises(ValueError, match=r"observed_mask: expected batch dims that broadcast"):
        model.complete(torch.zeros(2, *event), torch.ones(3, *event, dtype=torch.bool))


@pytest.mark.parametrize("name", MODELS)
def test_the_argument_checks_are_the_same_on_every_model(name: str) -> None:
    model = _model(name)
    with pytest.raises(
        ValueError, match=r"^method: expected one of \('fast', 'naive'\), found 'slow'"
    ):
        model.sample((2,), method="slow")
    with pytest.raises(ValueError, match=r"^temperature: expected a positive finite float"):
        model.sample((2,), temperature=0.0)
    with pytest.raises(TypeError, match=r"^generator: expected a torch.Generator or None"):
        model.sample((2,), generator=0)
    with pytest.raises(TypeError, match=r"^temperature: expected a positive float, found bool"):
        model.complete(torch.zeros(model.event_shape), _prefix_mask(model, 1), temperature=True)
    assert model.sample((0, 3)).shape == (0, 3, *model.event_shape)


@pytest.mark.parametrize("name", MODELS)
def test_positional_generator_after_condition_still_works_with_a_warning(name: str) -> None:
    model = _model(name)
    expected = model.sample((2,), generator=_seed())
    legacy = ("naive", _seed()) if name.startswith("pixelcnn") else (_seed(),)
    owner = type(model).__name__
    with pytest.warns(DeprecationWarning, match=rf"^{owner}\.sample: pass .*generator= by keyword"):
        old = model.sample((2,), None, *legacy)
    assert torch.allclose(old, expected, atol=1e-5)


# ---------------------------------------------------------------------- MAF


def _random_maf(features: int, **kwargs: object) -> MAF:
    torch.manual_seed(0)
    flow = MAF(features, **kwargs).double()  # type: ignore[arg-type]
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_(0.0, 0.4)
    return flow


def test_maf_completion_follows_the_exact_conditional_in_two_dimensions() -> None:
    """KS distance between completions of x_1 given x_0 and the quadrature conditional cdf.

    The conditional ``p(x_1 | x_0) = p(x_0, x_1) / p(x_0)`` is the flow's own density on a
    grid of 40001 points over [-40, 40] (trapezoid cdf; grid error far below the bound).
    4000 draws, bound 1.63 / sqrt(4000): a false failure rate of 1% for a fresh seed;
    the seed is fixed, so the test is deterministic (measured: 0.010 against the bound
    0.026, while the flow's unconditional x_1 samples score 0.074 and would fail).
    """
    flow = _random_maf(2, num_transforms=1, hidden_sizes=[8])
    x0 = 0.7
    grid = torch.linspace(-40.0, 40.0, 40001, dtype=torch.float64)
    points = torch.stack([torch.full_like(grid, x0), grid], dim=-1)
    with torch.no_grad():
        density = flow.log_prob(points).exp()
    cdf = torch.cat(
        [torch.zeros(1, dtype=torch.float64), torch.cumulative_trapezoid(density, grid)]
    )
    cdf = cdf / cdf[-1]
    assert float(density[0] + density[-1]) < 1e-12  # the grid holds the conditional's mass
    x = torch.tensor([x0, 123.0], dtype=torch.float64)  # the unobserved 123 is never read
    mask = torch.tensor([True, False])
    n = 4000
    done = flow.complete(x, mask, (n,), generator=_seed(5))
    assert torch.equal(done[:, 0], torch.full((n,), x0, dtype=torch.float64))
    drawn = done[:, 1].sort().values
    right = torch.searchsorted(grid, drawn).clamp(1, grid.numel() - 1)
    weight = (drawn - grid[right - 1]) / (grid[right] - grid[right - 1])
    model_cdf = torch.lerp(cdf[right - 1], cdf[right], weight)  # the cdf at the draws
    empirical_hi = torch.arange(1, n + 1, dtype=torch.float64) / n
    ks = torch.maximum(empirical_hi - model_cdf, model_cdf - (empirical_hi - 1 / n)).max()
    assert float(ks) < 1.63 / n**0.5, float(ks)


def test_maf_completion_of_a_one_order_stack_keeps_observed_values_exactly() -> None:
    flow = _random_maf(
        4, num_transforms=3, hidden_sizes=[8], alternate_order=False, condition_size=2
    )
    condition = torch.randn(3, 2, dtype=torch.float64)
    x = flow.sample((), condition, generator=_seed(0))
    mask = torch.tensor([[True, True, False, False], [True, False, False, False], [True] * 4])
    done = flow.complete(x, mask, (6,), condition, generator=_seed(1))
    assert done.shape == (6, 3, 4)
    assert torch.equal(done[:, mask], x[mask].expand(6, -1))
    assert bool(torch.isfinite(flow.log_prob(done, condition)).all())
    naive = flow.complete(x, mask, (6,), condition, generator=_seed(1), method="naive")
    assert (done - naive).abs().max() < 1e-12
    assert not torch.equal(done[:, 0, 2:], done[:1, 0, 2:].expand(6, 2))  # really drawn


def test_maf_refuses_masks_its_order_cannot_complete_exactly() -> None:
    one_order = _random_maf(3, num_transforms=2, hidden_sizes=[8], alternate_order=False)
    x = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(
        ValueError,
        match=r"exact only when the observed dims come first in the flow's autoregressive "
        r"order \[0, 1, 2\]; found row 1 observing dims \[1\]",
    ):
        one_order.complete(x, torch.tensor([[True, False, False], [False, True, False]]))
    alternating = _random_maf(3, num_transforms=2, hidden_sizes=[8])
    with pytest.raises(
        ValueError, match=r"autoregressive in no single order.*alternate_order=False"
    ):
        alternating.complete(x, torch.tensor([True, False, False]))
    everything = alternating.complete(x + 0.25, torch.ones(3, dtype=torch.bool), (2,))
    assert torch.equal(everything, torch.full((2, 3), 0.25, dtype=torch.float64))
    nothing = alternating.complete(x, torch.zeros(3, dtype=torch.bool), (2,), generator=_seed())
    assert torch.equal(nothing, alternating.sample((2,), generator=_seed()))
    custom = MAF(2, 1, [4], base=Independent(Normal(torch.zeros(2), 2.0), 1))
    with pytest.raises(ValueError, match=r"^complete: needs the default standard-normal base"):
        custom.complete(torch.zeros(2), torch.tensor([True, False]))
    with pytest.raises(ValueError, match=r"^temperature: only the default standard-normal base"):
        custom.sample((2,), temperature=0.5)
    assert custom.sample((2,)).shape == (2, 2)


def test_maf_order_follows_permutations_between_the_transforms() -> None:
    flow = _random_maf(3, num_transforms=1, hidden_sizes=[4])
    orders = flow._autoregressive_orders()
    assert orders is not None
    assert [o.tolist() for o in orders] == [[0, 1, 2], [0, 1, 2]]
    assert _random_maf(3, num_transforms=2, hidden_sizes=[4])._autoregressive_orders() is None
    flow.transforms.insert(0, Reverse(3))  # noise reversed, then natural order
    flow.transforms.append(Reverse(3))  # data reversed again: x_2 comes first
    orders = flow._autoregressive_orders()
    assert orders is not None
    assert [o.tolist() for o in orders] == [[2, 1, 0], [2, 1, 0]]
    x = torch.tensor([5.0, 6.0, 0.5], dtype=torch.float64)
    done = flow.complete(x, torch.tensor([False, False, True]), (4,), generator=_seed())
    assert torch.equal(done[:, 2], torch.full((4,), 0.5, dtype=torch.float64))
    assert bool(torch.isfinite(flow.log_prob(done)).all())
    with pytest.raises(ValueError, match=r"autoregressive order \[2, 1, 0\]; found row 0"):
        flow.complete(x, torch.tensor([True, False, False]))


def test_maf_temperature_scales_the_base_noise_and_sample_matches_rsample() -> None:
    flow = _random_maf(3, num_transforms=2, hidden_sizes=[8])
    assert torch.equal(
        flow.sample((4,), generator=_seed()), flow.rsample((4,), generator=_seed()).detach()
    )
    cold = flow.sample((4,), temperature=1e-6, generator=_seed())
    mode_image = flow.sample((1,), temperature=1e-12)
    assert (cold - mode_image).abs().max() < 1e-4


def test_flow_and_glow_take_generator_by_keyword_and_warn_on_the_old_position() -> None:
    flow = Flow([Reverse(2)], [2])
    expected = flow.sample((3,), generator=_seed())
    with pytest.warns(DeprecationWarning, match=r"Flow.sample: pass generator= by keyword"):
        assert torch.equal(flow.sample((3,), None, _seed()), expected)
    with pytest.warns(DeprecationWarning, match=r"Flow.rsample: pass generator= by keyword"):
        assert torch.equal(flow.rsample((3,), None, _seed()), expected)
    with pytest.raises(TypeError, match=r"^generator: expected a torch.Generator or None"):
        flow.rsample((3,), generator=1)
    glow = Glow([1, 4, 4], num_levels=1, num_steps=1, hidden_channels=4)
    expected = glow.sample((2,), generator=_seed(), temperature=0.7)
    with pytest.warns(DeprecationWarning, match=r"Glow.sample: pass generator= by keyword"):
        assert torch.equal(glow.sample((2,), None, _seed(), temperature=0.7), expected)
    assert (
        inspect.signature(glow.sample).parameters["generator"].kind
        is inspect.Parameter.KEYWORD_ONLY
    )

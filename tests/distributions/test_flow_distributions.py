"""The flow distributions MAF, IAF, RealNVP, NSF and Flow: normalisation, shapes, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, Normal, TransformedDistribution

from pygen.distributions import IAF, MAF, NSF, Flow, RealNVP, Reverse


def randomise(module: torch.nn.Module, scale: float = 0.3, seed: int = 0) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)
    return module


FLOWS = {
    "maf": lambda d, c: MAF(d, 2, [8], condition_size=c),
    "iaf": lambda d, c: IAF(d, 2, [8], condition_size=c),
    "realnvp": lambda d, c: RealNVP(d, 2, [8], condition_size=c),
    "nsf": lambda d, c: NSF(d, 2, [8], bins=4, bound=3.0, condition_size=c),
    "nsf-coupling": lambda d, c: NSF(d, 2, [8], bins=4, bound=3.0, coupling=True, condition_size=c),
}


def make(name: str, features: int, condition_size: int | None = None) -> Flow:
    return randomise(FLOWS[name](features, condition_size)).double()


# A coupling needs two parts, so the coupling flows refuse 1-D data (tested below) and
# are integrated in 2-D only.
ONE_DIMENSIONAL = [name for name in FLOWS if name not in ("realnvp", "nsf-coupling")]


@pytest.mark.parametrize("name", ONE_DIMENSIONAL)
@pytest.mark.parametrize("conditional", [False, True], ids=["plain", "conditioned"])
def test_one_dimensional_flow_integrates_to_one(name: str, conditional: bool) -> None:
    # Trapezoid rule on [-12, 12] with h = 1e-3: the density is smooth (C^1 for the
    # splines), so the grid error is O(h^2 max|p''|) < 1e-6, and the mass outside is below
    # 1e-8 for these parameter scales (|log scale| < 1.5 per transform); tolerance 1e-5.
    flow = make(name, 1, 2 if conditional else None)
    grid = torch.linspace(-12, 12, 24001, dtype=torch.float64)[:, None]
    condition = torch.tensor([0.7, -1.1], dtype=torch.float64) if conditional else None
    with torch.no_grad():
        density = flow.log_prob(grid, condition).exp()
    total = torch.trapezoid(density, grid[:, 0])
    assert abs(total.item() - 1) < 1e-5


@pytest.mark.parametrize("name", list(FLOWS))
def test_two_dimensional_flow_integrates_to_one(name: str) -> None:
    # Trapezoid on [-20, 20]^2 with h = 0.04 (1001 x 1001 points). Measured for these
    # flows: halving h changes the total by < 1e-7 (the grid error) and widening the box
    # from [-9, 9] (where up to 0.9% of the mass lies outside) to [-20, 20] leaves < 2e-6
    # outside; tolerance 1e-4. The splines' densities have sharp bins (parameters at scale
    # 0.15 here, not 0.3): halving h changes their totals by < 2e-4; tolerance 5e-4.
    spline = name.startswith("nsf")
    flow = randomise(FLOWS[name](2, 3), 0.15 if spline else 0.3).double()
    axis = torch.linspace(-20, 20, 1001, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1)
    condition = torch.tensor([0.3, -0.5, 1.0], dtype=torch.float64)
    with torch.no_grad():
        density = flow.log_prob(grid.reshape(-1, 2), condition).exp().reshape(1001, 1001)
    total = torch.trapezoid(torch.trapezoid(density, axis, dim=1), axis)
    assert abs(total.item() - 1) < (5e-4 if spline else 1e-4)


@pytest.mark.parametrize("name", list(FLOWS))
def test_log_prob_of_samples_is_finite_and_matches_the_transformed_distribution(name: str) -> None:
    flow = make(name, 3, 2)
    condition = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = flow.sample((4,), condition, generator=torch.Generator().manual_seed(1))
    assert x.shape == (4, 5, 3)
    log_p = flow.log_prob(x, condition)
    assert log_p.shape == (4, 5)
    assert torch.isfinite(log_p).all()
    d = flow(condition)
    assert isinstance(d, TransformedDistribution)
    assert d.batch_shape == (5,)
    assert d.event_shape == (3,)
    # torch's own TransformedDistribution.log_prob over the same transforms agrees
    assert torch.allclose(TransformedDistribution.log_prob(d, x), log_p, atol=1e-10)
    assert torch.allclose(d.log_prob(x), log_p)
    assert d.rsample((2,)).shape == (2, 5, 3)


@pytest.mark.parametrize("name", ONE_DIMENSIONAL)
def test_samples_follow_the_flow_density(name: str) -> None:
    # 1-D: the sample mean against the quadrature mean. 4000 draws: the standard error
    # is sigma/63, tolerance 5 of those
    # (false-failure rate below 1e-6).
    flow = make(name, 1)
    grid = torch.linspace(-12, 12, 24001, dtype=torch.float64)
    with torch.no_grad():
        p = flow.log_prob(grid[:, None]).exp()
    mean = torch.trapezoid(p * grid, grid)
    std = torch.trapezoid(p * (grid - mean) ** 2, grid).sqrt()
    x = flow.sample((4000,), generator=torch.Generator().manual_seed(3))[:, 0]
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(4000)


def test_maf_and_iaf_with_shared_weights_are_inverses() -> None:
    maf = make("maf", 4, 2)
    iaf = IAF.from_maf(maf)
    assert all(
        a is b.transform for a, b in zip(maf.transforms[::2], iaf.transforms[::-2], strict=True)
    )
    z = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    c = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x, ladj = z, torch.zeros(6, dtype=torch.float64)
    for t in maf.transforms:
        x, step = t._forward_and_ladj(x, None if t.condition_size is None else c)
        ladj = ladj + step
    back, back_ladj = x, torch.zeros(6, dtype=torch.float64)
    for t in iaf.transforms:
        back, step = t._forward_and_ladj(back, None if t.condition_size is None else c)
        back_ladj = back_ladj + step
    assert (back - z).abs().max() < 1e-10
    assert (back_ladj + ladj).abs().max() < 1e-10
    # The IAF's density of MAF's noise: p_iaf(z) = N(x) * |dz/dx|^-1 ... both exact, so
    # the change of variables ties them: log N(z) - ladj = log p_maf(x).
    base = Independent(Normal(torch.zeros(4, dtype=torch.float64), 1.0), 1)
    assert torch.allclose(maf.log_prob(x, c), base.log_prob(z) - ladj, atol=1e-10)
    assert torch.allclose(iaf.log_prob(z, c), base.log_prob(x) + ladj, atol=1e-10)
    with pytest.raises(TypeError, match="maf: expected a MAF, found RealNVP"):
        IAF.from_maf(make("realnvp", 4))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["maf", "nsf"])
def test_fast_and_naive_sampling_give_the_same_samples(name: str) -> None:
    flow = make(name, 5, 2)
    c = torch.randn(3, 2, dtype=torch.float64)
    fast = flow.sample((4,), c, generator=torch.Generator().manual_seed(0))
    flow.set_sampling_method("naive")
    naive = flow.sample((4,), c, generator=torch.Generator().manual_seed(0))
    assert (fast - naive).abs().max() < 1e-12


def test_rsample_is_differentiable_and_sample_is_not() -> None:
    flow = make("iaf", 3)
    x = flow.rsample((8,))
    x.sum().backward()
    assert all(p.grad is not None for p in flow.parameters())
    assert not flow.sample((2,)).requires_grad


def test_base_distribution_argument() -> None:
    base = Independent(Normal(torch.full((2,), 3.0), 0.5), 1)
    flow = Flow([Reverse(2)], [2], base=base)
    x = flow.sample((4000,))
    assert (x.mean(0) - 3).abs().max() < 0.05
    assert torch.allclose(flow.log_prob(x), base.log_prob(x.flip(-1)))
    inner = MAF(2, 1, [8])
    stacked = RealNVP(2, 2, [8], base=inner)  # a flow as the base of a flow
    assert stacked.base() is inner
    assert stacked.log_prob(stacked.sample((3,))).shape == (3,)
    assert set(inner.parameters()) <= set(stacked.parameters())
    with pytest.raises(ValueError, match=r"base: expected event_shape \(2,\) and batch_shape"):
        MAF(2, base=Normal(torch.zeros(3), 1.0))
    with pytest.raises(TypeError, match="base: expected a Distribution or a module"):
        MAF(2, base=torch.nn.Linear(2, 2))


def test_default_base_follows_dtype_and_state_dict() -> None:
    flow = MAF(2, 2, [8])
    assert flow.sample((2,)).dtype == torch.float32
    flow.double()
    assert flow.sample((2,)).dtype == torch.float64
    other = MAF(2, 2, [8]).double()
    other.load_state_dict(randomise(flow).state_dict())
    x = torch.randn(3, 2, dtype=torch.float64)
    assert torch.equal(other.log_prob(x), flow.log_prob(x))


def test_invalid_values_and_conditions_get_clear_errors() -> None:
    flow = make("maf", 3, 2)
    c = torch.zeros(4, 2, dtype=torch.float64)
    with pytest.raises(
        ValueError, match=r"x: expected a shape ending in event_shape \(3,\).*\(4, 2\)"
    ):
        flow.log_prob(torch.zeros(4, 2), c)
    with pytest.raises(
        ValueError, match=r"x has shape \[4, 1, 3\] but the condition has batch shape \[4\]"
    ):
        flow.log_prob(torch.zeros(4, 1, 3), c)
    with pytest.raises(
        ValueError, match=r"condition: expected shape \[..., 2\].*found shape \(4, 5\)"
    ):
        flow.log_prob(torch.zeros(4, 3), torch.zeros(4, 5))
    with pytest.raises(ValueError, match="built with condition_size=2; expected a tensor"):
        flow.log_prob(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="x: expected finite values, found nan"):
        flow.log_prob(torch.tensor([[0.0, float("nan"), 1.0]]), c[:1])
    with pytest.raises(ValueError, match="x: expected finite values, found inf"):
        flow.log_prob(torch.tensor([[0.0, float("inf"), 1.0]]), c[:1])
    with pytest.raises(
        TypeError, match=r"x: expected a floating-point tensor, found dtype torch\.int64"
    ):
        flow.log_prob(torch.zeros(4, 3, dtype=torch.long), c)
    with pytest.raises(ValueError, match="takes no condition"):
        make("maf", 3).log_prob(torch.zeros(4, 3), c)
    with pytest.raises(ValueError, match=r"x has shape \[4, 1, 3\]"):
        flow(c).log_prob(torch.zeros(4, 1, 3))
    with pytest.raises(TypeError, match="sample_shape: expected a sequence of ints"):
        flow.sample(4, c)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_transforms: expected an int >= 1, found 0"):
        MAF(3, 0)
    with pytest.raises(ValueError, match="hidden_sizes: expected a sequence of positive ints"):
        NSF(3, 1, [0])
    with pytest.raises(ValueError, match=r"transforms\[0\]: expected condition_size None"):
        Flow(list(make("maf", 3, 2).transforms), [3])


@pytest.mark.parametrize("name", ["realnvp", "nsf-coupling"])
@pytest.mark.parametrize("condition_size", [None, 2], ids=["plain", "conditioned"])
def test_coupling_flows_refuse_one_feature(name: str, condition_size: int | None) -> None:
    # One feature cannot be split into a kept and a transformed part: without this check
    # RealNVP(1) built identity couplings and couplings whose network had no input.
    with pytest.raises(
        ValueError, match=r"features: a coupling flow needs at least 2 features .* found 1; "
        r"for 1-D data use MAF, or NSF without coupling=True",
    ):  # fmt: skip
        FLOWS[name](1, condition_size)
    assert FLOWS[name](2, condition_size).event_shape == (2,)


@pytest.mark.parametrize("name", ["realnvp", "nsf-coupling"])
def test_coupling_samples_follow_the_flow_density_in_two_dimensions(name: str) -> None:
    # The coupling flows' version of the 1-D sample test above: each coordinate's sample
    # mean against its quadrature mean (trapezoid on [-20, 20]^2, h = 0.08: its error on
    # the moments is far below one standard error), 4000 draws, tolerance 5 standard errors.
    flow = randomise(FLOWS[name](2, None), 0.15 if name.startswith("nsf") else 0.3).double()
    axis = torch.linspace(-20, 20, 501, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1)
    with torch.no_grad():
        p = flow.log_prob(grid.reshape(-1, 2)).exp().reshape(501, 501, 1)
    mass = torch.trapezoid(torch.trapezoid(p, axis, dim=1), axis, dim=0)
    mean = torch.trapezoid(torch.trapezoid(p * grid, axis, dim=1), axis, dim=0) / mass
    second = torch.trapezoid(torch.trapezoid(p * grid**2, axis, dim=1), axis, dim=0) / mass
    std = (second - mean**2).sqrt()
    x = flow.sample((4000,), generator=torch.Generator().manual_seed(3))
    assert (x.mean(0) - mean).abs().lt(5 * std / math.sqrt(4000)).all()

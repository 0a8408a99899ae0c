"""Exactness of every flow transform (float64): Jacobians, inverses, conditioning."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
from torch.autograd.functional import jacobian
from torch.distributions import Independent, Normal, TransformedDistribution

from pygen.distributions import (
    AffineCouplingTransform,
    FlowTransform,
    InverseFlowTransform,
    MaskedAffineAutoregressiveTransform,
    MaskedRQSplineAutoregressiveTransform,
    Permutation,
    Reverse,
    RQSplineCouplingTransform,
    made_masks,
)

D, C = 4, 3


def randomise(module: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """Move every parameter off its (identity) initialisation."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)
    return module


MAKERS = {
    "maf": lambda c: MaskedAffineAutoregressiveTransform(D, [8, 8], condition_size=c),
    "maf-linear": lambda c: MaskedAffineAutoregressiveTransform(D, [], condition_size=c),
    "maf-order": lambda c: MaskedAffineAutoregressiveTransform(
        D, [8], condition_size=c, order=[2, 0, 3, 1]
    ),
    "ar-spline": lambda c: MaskedRQSplineAutoregressiveTransform(
        D, [8], bins=5, bound=3.0, condition_size=c
    ),
    "affine-coupling": lambda c: AffineCouplingTransform(D, [8], condition_size=c),
    "spline-coupling": lambda c: RQSplineCouplingTransform(
        D, [8], bins=5, bound=3.0, mask=[True, False, True, False], condition_size=c
    ),
    "iaf": lambda c: InverseFlowTransform(
        MaskedAffineAutoregressiveTransform(D, [8], condition_size=c)
    ),
    "permutation": lambda c: Permutation([3, 1, 0, 2]),
    "reverse": lambda c: Reverse(D),
}
CONDITIONAL = [k for k in MAKERS if k not in ("permutation", "reverse")]


def make(name: str, conditional: bool) -> FlowTransform:
    t = MAKERS[name](C if conditional else None)
    return randomise(t).double()


def points() -> torch.Tensor:
    # Spread so that the splines see inside and outside their interval [-3, 3].
    return torch.tensor([[-3.5, -1.2, 0.3, 2.9], [0.1, 4.0, -2.2, 1.5]], dtype=torch.float64)


@pytest.mark.parametrize("name", list(MAKERS))
def test_log_abs_det_jacobian_is_log_det_of_autograd_jacobian(name: str) -> None:
    t = make(name, False)
    for x in points():
        y = t(x)
        jac = jacobian(lambda v: t(v), x)
        expected = torch.linalg.slogdet(jac)[1]
        assert torch.allclose(t.log_abs_det_jacobian(x, y), expected, atol=1e-10)
        # the inverse's Jacobian too
        jac_inv = jacobian(lambda v: t.inv(v), y)
        assert torch.allclose(t.inv.log_abs_det_jacobian(y, x), torch.linalg.slogdet(jac_inv)[1],
                              atol=1e-10)  # fmt: skip


@pytest.mark.parametrize("name", list(MAKERS))
def test_inverse_of_forward_is_identity(name: str) -> None:
    t = make(name, False)
    x = torch.randn(50, D, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2
    y = t(x)
    # In x-space to 1e-10 wherever the map is not nearly flat: where dy/dx ~ 1e-7 (a
    # spline bin squeezed to its minimum), float64's rounding of y alone moves x by ~1e-9.
    well_conditioned = t.log_abs_det_jacobian(x, y) > -6
    assert well_conditioned.float().mean() > 0.8
    assert (t.inv(y) - x)[well_conditioned].abs().max() < 1e-10
    assert (t(t.inv(y)) - y).abs().max() < 1e-12  # and everywhere in y-space
    assert (t(t.inv(x)) - x).abs().max() < 1e-10


@pytest.mark.parametrize("name", CONDITIONAL)
def test_conditioned_transform_is_exact(name: str) -> None:
    t = make(name, True)
    condition = torch.randn(2, C, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    bound = t.conditioned(condition)
    x = points()
    y = bound(x)
    assert (bound.inv(y) - x).abs().max() < 1e-10
    for i in range(2):
        single = t.conditioned(condition[i])
        jac = jacobian(single, x[i])
        assert torch.allclose(bound.log_abs_det_jacobian(x, y)[i], torch.linalg.slogdet(jac)[1],
                              atol=1e-10)  # fmt: skip
    # The condition changes the map.
    other = t.conditioned(condition.flip(0))
    assert not torch.allclose(other(x), y)


@pytest.mark.parametrize("name", CONDITIONAL)
def test_conditional_transform_refuses_a_missing_or_wrong_condition(name: str) -> None:
    t = make(name, True)
    with pytest.raises(ValueError, match="condition_size=3; bind a condition"):
        t(points())
    with pytest.raises(ValueError, match=r"expected shape \[..., 3\].*found shape \(2, 5\)"):
        t.conditioned(torch.zeros(2, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"broadcast with those of the value \(2,\), found"):
        t.conditioned(torch.zeros(7, C, dtype=torch.float64))(points())
    with pytest.raises(ValueError, match="would enlarge the value's batch dims"):
        t.conditioned(torch.zeros(3, 2, C, dtype=torch.float64))(points())
    unconditional = make(name, False)
    with pytest.raises(ValueError, match="takes no condition"):
        unconditional.conditioned(torch.zeros(2, C))


@pytest.mark.parametrize("name", ["maf", "ar-spline", "maf-order"])
def test_autoregressive_output_depends_only_on_earlier_inputs(name: str) -> None:
    t = make(name, False)
    order = t.order.tolist()
    x = points()[0]
    jac = jacobian(lambda v: t.params(v).sum(-1), x)  # [D, D]: d params_d / d x_j
    for k, d in enumerate(order):
        assert jac[d, order[k:]].abs().max() == 0  # not on itself nor on later entries
    assert jac.abs().sum() > 0  # but on earlier ones


@pytest.mark.parametrize("name", ["maf", "ar-spline", "maf-linear"])
def test_fast_and_naive_sequential_forward_agree(name: str) -> None:
    t = make(name, True)
    z = torch.randn(6, D, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    c = torch.randn(6, C, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    fast = t.sequential_forward(z, c, "fast")
    naive = t.sequential_forward(z, c, "naive")
    assert (fast[0] - naive[0]).abs().max() < 1e-12
    assert (fast[1] - naive[1]).abs().max() < 1e-12
    with pytest.raises(ValueError, match="expected one of \\('fast', 'naive'\\), found 'slow'"):
        t.sequential_forward(z, c, "slow")


def test_made_masks_is_the_scheme_made_uses() -> None:
    from pygen.distributions import MADE

    made = MADE([5], hidden_sizes=[7, 6], num_masks=2)
    made.resample_mask(1)
    generator = torch.Generator().manual_seed(made.seed + 1)
    order = torch.randperm(5, generator=generator)
    masks = made_masks(order, [7, 6], generator)
    for layer, mask in zip(made.layers, masks, strict=True):
        assert torch.equal(layer.mask.bool(), mask)


def test_transform_is_a_module_and_a_transform() -> None:
    t = make("maf", False)
    assert isinstance(t, torch.nn.Module)
    assert isinstance(t, torch.distributions.Transform)
    assert t == t
    assert t != make("maf", False)
    assert len({t, t}) == 1
    assert t.inv.inv is t
    assert t.bijective
    assert t.domain.event_dim == 1
    assert t.codomain.event_dim == 1
    x = points()
    y = t(x)
    clone = copy.deepcopy(t)  # the last call's slot does not block deep copies
    assert torch.allclose(clone(x), y)
    restored = pickle.loads(pickle.dumps(t))
    assert torch.allclose(restored(x), y)
    fresh = MaskedAffineAutoregressiveTransform(D, [8, 8]).double()
    fresh.load_state_dict(t.state_dict())
    assert torch.allclose(fresh(x), y)
    assert "layers.0.mask" in t.state_dict()
    assert t.float()(x.float()).dtype == torch.float32


def test_transforms_compose_with_torch_transformed_distribution() -> None:
    t1, t2 = make("maf", False), make("spline-coupling", False)
    base = Independent(
        Normal(torch.zeros(D, dtype=torch.float64), torch.ones(D, dtype=torch.float64)), 1
    )
    d = TransformedDistribution(base, [t1, Reverse(D), t2])
    x = d.sample((5,))
    z = t1.inv(Reverse(D).inv(t2.inv(x)))
    expected = base.log_prob(z) - (
        t1.log_abs_det_jacobian(z, t1(z)) + t2.log_abs_det_jacobian(t1(z).flip(-1), x)
    )
    assert torch.allclose(d.log_prob(x), expected, atol=1e-10)
    # and a torch transform inverted by torch
    inverse = TransformedDistribution(base, [t1.inv])
    assert inverse.log_prob(inverse.sample((3,))).shape == (3,)


def test_transforms_refuse_the_wrong_event_size() -> None:
    for name in MAKERS:
        t = make(name, False)
        with pytest.raises(ValueError, match=r"expected shape \[..., 4\], found shape \(2, 3\)"):
            t(torch.zeros(2, 3, dtype=torch.float64))


def test_invalid_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="order: expected a permutation of range\\(3\\)"):
        MaskedAffineAutoregressiveTransform(3, [4], order=[0, 0, 1])
    with pytest.raises(ValueError, match="sampling_method"):
        MaskedAffineAutoregressiveTransform(3, [4], sampling_method="quick")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bound: expected a positive number, found -1"):
        RQSplineCouplingTransform(3, bound=-1)
    with pytest.raises(ValueError, match="mask: expected 3 bools, found shape \\(2,\\)"):
        AffineCouplingTransform(3, mask=[True, False])
    with pytest.raises(ValueError, match="mask: keeps all 3 entries, so the coupling transforms"):
        AffineCouplingTransform(3, mask=[True, True, True])
    with pytest.raises(ValueError, match="mask: keeps no entry and there is no condition"):
        RQSplineCouplingTransform(3, mask=[False, False, False])
    with pytest.raises(ValueError, match="mask: keeps no entry and there is no condition"):
        AffineCouplingTransform(1)  # the default mask keeps features // 2 = 0 entries
    # With a condition, a coupling that keeps nothing is a conditional elementwise map.
    conditional = AffineCouplingTransform(1, [4], condition_size=2)
    assert conditional.conditioned(torch.zeros(3, 2))(torch.zeros(3, 1)).shape == (3, 1)
    with pytest.raises(ValueError, match="permutation: expected a permutation"):
        Permutation([0, 2])
    with pytest.raises(TypeError, match="features: expected an int"):
        Reverse(2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transform: expected a FlowTransform"):
        InverseFlowTransform(torch.distributions.ExpTransform())  # type: ignore[arg-type]


def test_maf_transform_puts_scale_and_shift_on_the_normalising_direction() -> None:
    # z_d = x_d exp(s_d) + t_d from data to noise; x_d = (z_d - t_d) exp(-s_d) generates.
    # With a one-variable transform the network sees no earlier inputs, so s and t are
    # its output biases: check the formula, the log-determinant and the soft bound.
    transform = MaskedAffineAutoregressiveTransform(1, hidden_sizes=[4]).double()
    last = transform.layers[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.5, 2.0], dtype=torch.float64))  # t, raw s
    s = 2.0 / (1 + 2.0 / 7)
    x = torch.tensor([[1.5], [-3.0]], dtype=torch.float64)
    z = transform.inv(x)
    torch.testing.assert_close(z, x * math.exp(s) + 0.5)
    torch.testing.assert_close(transform(z), x)
    expected = torch.full((2,), -s, dtype=torch.float64)
    torch.testing.assert_close(transform.log_abs_det_jacobian(z, x), expected)
    with torch.no_grad():
        last.bias.copy_(torch.tensor([0.0, 1e6], dtype=torch.float64))
    one = torch.ones(1, 1, dtype=torch.float64)
    assert math.exp(6.99) < float(transform.inv(one)) < math.exp(7.0)  # |s| < 7, raw s 1e6

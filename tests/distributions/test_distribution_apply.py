"""Converting a fixed torch.distributions object with a module's tensor function.

``apply_to_distribution`` is what lets a VAE's fixed prior follow ``.to()``, ``.double()``
and ``.half()``; the VAE-level tests are in ``test_vae.py``. A registry of distributions,
each built twice (in float32 and in float64, from the same numbers), checks that the
float32 one converted to float64 holds only float64 tensors, keeps its class and shapes,
and has the log-density of the one built in float64; the original is left in float32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import torch
from torch import Tensor, nn
from torch.distributions import (
    Bernoulli,
    Beta,
    Categorical,
    Distribution,
    Gumbel,
    Independent,
    LogNormal,
    LowRankMultivariateNormal,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    RelaxedBernoulli,
    StudentT,
    TransformedDistribution,
    constraints,
)
from torch.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
)

from pygen.distributions import DiscretizedLogistic, Logistic, QuantizedDistribution
from pygen.distributions._distribution_apply import apply_to_distribution

# ----------------------------------------------------------------------------- helpers


def tensors_in(obj: Any, seen: set[int] | None = None) -> list[Tensor]:
    """Every tensor an object graph of distributions and transforms holds."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in tensors_in(item, seen)]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return [t for item in vars(obj).values() for t in tensors_in(item, seen)]
    return []


def to_double(t: Tensor) -> Tensor:
    return t.double() if t.is_floating_point() else t


def read_lazy_properties(d: Distribution) -> Distribution:
    """Read the lazily derived parametrisations, so they sit cached in ``__dict__``."""
    for name in ("logits", "probs", "scale_tril", "covariance_matrix", "precision_matrix"):
        with contextlib.suppress(AttributeError, NotImplementedError):
            getattr(d, name)
    return d


# ----------------------------------------------------------------------------- registry


def _transformed(dtype: torch.dtype) -> Distribution:
    scale = torch.tensor([2.0, 0.5, 1.5], dtype=dtype)
    return TransformedDistribution(
        Normal(torch.zeros(3, dtype=dtype), torch.ones(3, dtype=dtype)),
        [AffineTransform(1.0, scale), ExpTransform().inv.inv, SigmoidTransform()],
    )


REGISTRY: dict[str, Callable[[torch.dtype], Distribution]] = {
    "Independent(Normal)": lambda dt: Independent(
        Normal(torch.tensor([0.1, -0.2, 0.3], dtype=dt), torch.tensor([1.0, 0.5, 2.0], dtype=dt)),
        1,
    ),
    "Bernoulli(probs)": lambda dt: Bernoulli(probs=torch.tensor([0.2, 0.5, 0.7], dtype=dt)),
    "Bernoulli(logits)": lambda dt: Bernoulli(logits=torch.tensor([0.2, -1.5, 0.7], dtype=dt)),
    "Independent(Bernoulli)": lambda dt: Independent(
        Bernoulli(probs=torch.tensor([0.2, 0.5, 0.7], dtype=dt)), 1
    ),
    "OneHotCategorical": lambda dt: OneHotCategorical(
        logits=torch.tensor([0.3, -0.2, 0.5, 0.0], dtype=dt)
    ),
    "MultivariateNormal": lambda dt: MultivariateNormal(
        torch.tensor([0.5, -0.5], dtype=dt),
        covariance_matrix=torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=dt),
    ),
    "LowRankMultivariateNormal": lambda dt: LowRankMultivariateNormal(
        torch.zeros(3, dtype=dt),
        torch.tensor([[1.0], [0.5], [-0.5]], dtype=dt),
        torch.tensor([1.0, 2.0, 0.5], dtype=dt),
    ),
    "MixtureSameFamily": lambda dt: MixtureSameFamily(
        Categorical(logits=torch.tensor([0.1, 0.4], dtype=dt)),
        Independent(
            Normal(
                torch.tensor([[-1.0, 0.0], [1.0, 2.0]], dtype=dt),
                torch.tensor([[0.5, 1.0], [1.5, 0.7]], dtype=dt),
            ),
            1,
        ),
    ),
    "TransformedDistribution": _transformed,
    "LogNormal": lambda dt: LogNormal(torch.tensor([0.0, 1.0], dtype=dt), torch.ones(2, dtype=dt)),
    "Beta": lambda dt: Beta(torch.tensor([2.0, 0.5], dtype=dt), torch.tensor([1.0, 3.0], dtype=dt)),
    "StudentT": lambda dt: StudentT(torch.tensor([3.0, 5.0], dtype=dt)),
    "RelaxedBernoulli": lambda dt: RelaxedBernoulli(
        torch.tensor(0.5, dtype=dt), probs=torch.tensor([0.3, 0.6], dtype=dt)
    ),
    "Logistic": lambda dt: Logistic(torch.tensor([0.0, 1.0], dtype=dt), torch.ones(2, dtype=dt)),
    "DiscretizedLogistic": lambda dt: DiscretizedLogistic(
        torch.tensor([0.3, 0.6], dtype=dt), torch.tensor([0.1, 0.2], dtype=dt), num_bins=8
    ),
    "QuantizedDistribution": lambda dt: QuantizedDistribution(
        torch.tensor([[0.1, 0.5, -0.3]], dtype=dt)
    ),
}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_double_copy_holds_float64_and_equals_one_built_in_float64(name: str) -> None:
    single = read_lazy_properties(REGISTRY[name](torch.float32))
    double = read_lazy_properties(REGISTRY[name](torch.float64))
    converted = apply_to_distribution(single, to_double, "prior")

    assert type(converted) is type(single)
    assert converted.batch_shape == single.batch_shape
    assert converted.event_shape == single.event_shape
    floats = [t for t in tensors_in(converted) if t.is_floating_point()]
    assert floats, "the registry entry holds no floating-point tensor"
    assert all(t.dtype == torch.float64 for t in floats), [t.dtype for t in floats]
    # The original is a different object, left in float32.
    assert all(t.dtype == torch.float32 for t in tensors_in(single) if t.is_floating_point())

    torch.manual_seed(1)
    value = double.sample((5,))
    torch.manual_seed(1)
    drawn = converted.sample((5,))
    assert drawn.dtype == value.dtype
    # The converted one's numbers went through float32, so agreement is to float32 accuracy.
    torch.testing.assert_close(drawn, value, rtol=1e-5, atol=1e-6)
    log_prob = converted.log_prob(value)
    assert log_prob.dtype == torch.float64
    torch.testing.assert_close(log_prob, double.log_prob(value), rtol=1e-5, atol=1e-5)


def test_aliases_stay_aliases_and_cached_parametrisations_follow() -> None:
    bernoulli = Bernoulli(probs=torch.tensor([0.2, 0.9]))
    assert bernoulli._param is bernoulli.probs  # torch keeps the parameter twice
    bernoulli.logits  # noqa: B018 (cached in __dict__ on first read)
    assert "logits" in vars(bernoulli)
    converted = apply_to_distribution(bernoulli, to_double, "prior")
    assert converted._param is converted.probs
    assert vars(converted)["logits"].dtype == torch.float64
    torch.testing.assert_close(converted.logits, bernoulli.logits.double())


def test_half_converts_nested_tensors_and_keeps_shapes() -> None:
    mixture = MixtureSameFamily(
        Categorical(logits=torch.tensor([0.1, 0.4])), Normal(torch.zeros(2), torch.ones(2))
    )

    def half(t: Tensor) -> Tensor:  # nn.Module.half's function
        return t.half() if t.is_floating_point() else t

    converted = apply_to_distribution(mixture, half, "prior")
    assert converted.mixture_distribution.logits.dtype == torch.float16
    assert converted.component_distribution.loc.dtype == torch.float16
    assert converted.batch_shape == ()
    assert converted.event_shape == ()
    assert converted.log_prob(torch.tensor([0.5], dtype=torch.float16)).dtype == torch.float16
    assert mixture.component_distribution.loc.dtype == torch.float32


def test_transforms_are_copied_with_their_inverses_and_without_their_caches() -> None:
    scale = torch.tensor([2.0, 3.0])
    affine = AffineTransform(torch.tensor([1.0, -1.0]), scale, cache_size=1)
    d = TransformedDistribution(
        Normal(torch.zeros(2), torch.ones(2)), [ComposeTransform([affine, ExpTransform().inv])]
    )
    z = torch.randn(3, 2, requires_grad=True)
    affine(z)  # fills the cache with a tensor that requires grad
    assert affine._cached_x_y[0] is z
    converted = apply_to_distribution(d, to_double, "prior")
    (compose,) = converted.transforms
    new_affine = compose.parts[0]
    assert new_affine is not affine
    assert new_affine.loc.dtype == new_affine.scale.dtype == torch.float64
    assert new_affine._cached_x_y == (None, None)
    assert new_affine.inv.inv is new_affine
    y = torch.tensor([0.5, 2.0], dtype=torch.float64)
    torch.testing.assert_close(new_affine(new_affine.inv(y)), y)
    assert affine.loc.dtype == torch.float32  # the original is untouched


def test_the_same_function_the_module_applies_to_a_device() -> None:
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    seen: list[Tensor] = []

    def record(t: Tensor) -> Tensor:
        seen.append(t)
        return t.to("meta")

    converted = apply_to_distribution(prior, record, "prior")
    assert converted.base_dist.loc.is_meta
    assert converted.base_dist.scale.is_meta
    assert len(seen) == 2  # each tensor converted once
    assert converted.event_shape == (2,)


# ----------------------------------------------------------------------------- refusals


class HoldsAnArray(Distribution):
    """A user's distribution that keeps its parameter somewhere the conversion cannot see."""

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}

    def __init__(self) -> None:
        self.table = [torch.zeros(2), object()]
        super().__init__(torch.Size(), torch.Size([2]), validate_args=False)


class HoldsAModule(Distribution):
    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}

    def __init__(self) -> None:
        self.net = nn.Linear(2, 2)
        super().__init__(torch.Size(), torch.Size([2]), validate_args=False)


def test_an_unknown_kind_of_attribute_is_refused_naming_it() -> None:
    with pytest.raises(
        TypeError,
        match=r"prior: the fixed HoldsAnArray prior cannot follow the module's "
        r"\.to\(\)/\.double\(\)/\.half\(\): prior\.table\[1\] holds an object of type "
        r"object.*nn\.Module",
    ):
        apply_to_distribution(HoldsAnArray(), to_double, "prior")
    with pytest.raises(TypeError, match=r"prior\.base_dist\.net holds an nn\.Module \(Linear\)"):
        apply_to_distribution(Independent(HoldsAModule(), 0), to_double, "prior")


def test_a_tensor_that_requires_grad_is_refused() -> None:
    loc = torch.zeros(2, requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"prior\.base_dist\.loc requires grad .* as an nn\.Parameter",
    ):
        apply_to_distribution(Independent(Normal(loc, 1.0), 1), to_double, "prior")


def test_a_gumbel_changes_device_but_not_dtype() -> None:
    gumbel = Independent(Gumbel(torch.zeros(3), torch.ones(3)), 1)
    moved = apply_to_distribution(gumbel, lambda t: t.to("cpu"), "prior")
    assert moved.base_dist.loc.dtype == torch.float32
    with pytest.raises(
        TypeError,
        match=r"cannot be converted from torch\.float32 to torch\.float16: torch's Gumbel "
        r"\(prior\.base_dist\) fixes its sampler's bounds .*build the Gumbel in torch\.float16",
    ):
        apply_to_distribution(gumbel, lambda t: t.half(), "prior")


class HoldsAConstraint(Distribution):
    """A user's distribution that keeps a constraint with tensor bounds in the instance."""

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}

    def __init__(self, low: Tensor, high: Tensor) -> None:
        self.low, self.high = low, high
        self.bounds = constraints.interval(low, high)
        self.unit = constraints.independent(constraints.real, 1)  # no tensor: kept as is
        super().__init__(torch.Size(), low.shape, validate_args=False)


def test_constraints_with_tensors_are_converted_and_the_others_kept() -> None:
    d = HoldsAConstraint(torch.zeros(2), torch.ones(2))
    converted = apply_to_distribution(d, to_double, "prior")
    assert converted.bounds.lower_bound is converted.low
    assert converted.bounds.upper_bound.dtype == torch.float64
    assert converted.unit is d.unit
    assert d.bounds.lower_bound.dtype == torch.float32

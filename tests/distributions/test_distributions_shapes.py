"""Generic tests for every distribution of pygen.distributions, driven by one registry.

Each registry entry knows how to build the distribution for a given batch shape, which
values lie outside its support, and which constructor arguments are invalid. The tests
compare shapes with ``torch.distributions.Normal``, the reference for torch's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from torch.distributions import Distribution, Independent, Normal

from pygen.distributions import (
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    Logistic,
    QuantizedDistribution,
)


def assert_close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Compare tensors with numpy (torch.testing's first call imports for seconds)."""
    np.testing.assert_allclose(
        actual.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )


Shape = tuple[int, ...]


@dataclass(frozen=True)
class Case:
    """How to build one distribution and how to break it."""

    name: str
    make: Callable[[Shape, bool | None], Distribution]
    outside_support: list[float]
    invalid_args: list[tuple[Callable[[], object], type[Exception], str]] = field(
        default_factory=list
    )


def _make_logistic(batch: Shape, validate: bool | None = None) -> Distribution:
    return Logistic(torch.randn(batch), torch.rand(batch) + 0.5, validate_args=validate)


def _make_quantized(batch: Shape, validate: bool | None = None) -> Distribution:
    return QuantizedDistribution(torch.randn(*batch, 7), validate_args=validate)


def _make_discretized(batch: Shape, validate: bool | None = None) -> Distribution:
    return DiscretizedLogistic(
        torch.rand(batch), torch.rand(batch) * 0.2 + 0.01, validate_args=validate
    )


def _make_mixture(batch: Shape, validate: bool | None = None) -> Distribution:
    return DiscretizedLogisticMixture(
        torch.randn(*batch, 3),
        torch.rand(*batch, 3),
        torch.rand(*batch, 3) * 0.2 + 0.01,
        validate_args=validate,
    )


ONES = torch.ones(3)
CASES = [
    Case(
        "Logistic",
        _make_logistic,
        outside_support=[float("nan")],
        invalid_args=[
            (lambda: Logistic("0", 1.0), TypeError, "loc: expected a floating-point tensor"),
            (lambda: Logistic(0.0, torch.ones(2, dtype=torch.long)), TypeError, "scale:.*int64"),
            (lambda: Logistic(torch.zeros(2), torch.ones(3)), ValueError, r"loc \(2,\).*\(3,\)"),
            (lambda: Logistic(0.0, -1.0, validate_args=True), ValueError, "scale"),
        ],
    ),
    Case(
        "QuantizedDistribution",
        _make_quantized,
        outside_support=[-0.1, 1.5],
        invalid_args=[
            (lambda: QuantizedDistribution([0.0, 1.0]), TypeError, "logits: expected a torch"),
            (lambda: QuantizedDistribution(torch.ones(3, dtype=torch.long)), TypeError, "dtype"),
            (lambda: QuantizedDistribution(torch.tensor(1.0)), ValueError, r"found shape \(\)"),
            (
                lambda: QuantizedDistribution(torch.tensor([0.0, float("nan")]), True),
                ValueError,
                "logits",
            ),
        ],
    ),
    Case(
        "DiscretizedLogistic",
        _make_discretized,
        outside_support=[-0.1, 1.5, 0.5 / 255],
        invalid_args=[
            (lambda: DiscretizedLogistic(0.5, 0.1, num_bins=1), ValueError, "num_bins.*>= 2.*1"),
            (lambda: DiscretizedLogistic(0.5, 0.1, num_bins=2.0), TypeError, "num_bins.*float"),
            (lambda: DiscretizedLogistic(0.5, 0.1, num_bins=True), TypeError, "num_bins.*bool"),
            (lambda: DiscretizedLogistic(None, 0.1), TypeError, "loc.*NoneType"),
            (lambda: DiscretizedLogistic(0.5, 0.0, validate_args=True), ValueError, "scale"),
        ],
    ),
    Case(
        "DiscretizedLogisticMixture",
        _make_mixture,
        outside_support=[-0.1, 1.5, 0.5 / 255],
        invalid_args=[
            (lambda: DiscretizedLogisticMixture(ONES, 0.5, ONES), TypeError, "loc: expected a"),
            (
                lambda: DiscretizedLogisticMixture(ONES, torch.tensor(0.5), ONES),
                ValueError,
                r"loc: expected at least one dim.*\(\)",
            ),
            (
                lambda: DiscretizedLogisticMixture(ONES, torch.ones(2), ONES),
                ValueError,
                r"logits \(3,\), loc \(2,\), scale \(3,\)",
            ),
            (
                lambda: DiscretizedLogisticMixture(ONES, ONES, -ONES, validate_args=True),
                ValueError,
                "scale",
            ),
            (
                lambda: DiscretizedLogisticMixture(ONES, ONES, ONES, num_bins=0),
                ValueError,
                "num_bins",
            ),
        ],
    ),
]
IDS = [case.name for case in CASES]
INVALID = [(case.name, *bad) for case in CASES for bad in case.invalid_args]

SAMPLE_SHAPES: list[Shape] = [(), (5,), (2, 3)]
BATCH_SHAPES: list[Shape] = [(), (4,), (2, 3)]


@pytest.mark.parametrize(
    ("name", "build", "error", "match"), INVALID, ids=[f"{c[0]}-{i}" for i, c in enumerate(INVALID)]
)
def test_invalid_arguments_raise(
    name: str, build: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("batch", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("sample_shape", SAMPLE_SHAPES, ids=str)
def test_sample_and_log_prob_shapes_match_normal(
    case: Case, batch: Shape, sample_shape: Shape
) -> None:
    d = case.make(batch, None)
    normal = Normal(torch.zeros(batch), torch.ones(batch))
    assert d.batch_shape == normal.batch_shape == torch.Size(batch)
    assert d.event_shape == normal.event_shape == torch.Size()

    x = d.sample(sample_shape)
    reference = normal.sample(sample_shape)
    assert x.shape == reference.shape == torch.Size(sample_shape + batch)
    assert d.log_prob(x).shape == normal.log_prob(reference).shape
    assert bool(d.support.check(x).all())
    # A value with extra leading singleton dims broadcasts the same way as for Normal.
    value = x.reshape((1, 1, *x.shape))
    assert d.log_prob(value).shape == normal.log_prob(reference.reshape(value.shape)).shape
    # A scalar value broadcasts against the batch.
    scalar = x.reshape(-1)[0] if x.numel() else torch.tensor(0.5)
    assert d.log_prob(scalar).shape == normal.log_prob(torch.tensor(0.0)).shape


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rsample_matches_has_rsample(case: Case) -> None:
    d = case.make((2,), None)
    if d.has_rsample:
        assert d.rsample((3,)).shape == (3, 2)
    else:
        with pytest.raises(NotImplementedError):
            d.rsample()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("reinterpreted", [1, 2])
def test_independent_moves_batch_dims_into_event(case: Case, reinterpreted: int) -> None:
    d = case.make((2, 3), None)
    wrapped = Independent(d, reinterpreted)
    assert wrapped.batch_shape == torch.Size((2, 3)[: 2 - reinterpreted])
    assert wrapped.event_shape == torch.Size((2, 3)[2 - reinterpreted :])
    x = wrapped.sample((5,))
    assert x.shape == (5, 2, 3)
    expected = d.log_prob(x).sum(dim=tuple(range(-reinterpreted, 0)))
    assert_close(wrapped.log_prob(x), expected)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("validate", [True, False])
def test_expand(case: Case, validate: bool) -> None:
    d = case.make((3,), validate)
    expanded = d.expand((2, 3))
    assert type(expanded) is type(d)
    assert expanded.batch_shape == (2, 3)
    assert expanded._validate_args is d._validate_args
    assert expanded.sample((4,)).shape == (4, 2, 3)
    x = d.sample()
    assert_close(expanded.log_prob(x), d.log_prob(x).expand(2, 3))
    assert_close(expanded.mean, d.mean.expand(2, 3))
    with pytest.raises(RuntimeError):
        d.expand((4,))  # (3,) cannot expand to (4,), as in torch


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_outside_support_raise_only_with_validation(case: Case) -> None:
    checked = case.make((), True)
    unchecked = case.make((), False)
    for bad in case.outside_support:
        value = torch.tensor(bad)
        with pytest.raises(ValueError, match="support"):
            checked.log_prob(value)
        unchecked.log_prob(value)  # no check: no error


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("validate", [True, False])
def test_badly_shaped_value_raises_naming_both_shapes(case: Case, validate: bool) -> None:
    d = case.make((4,), validate)
    with pytest.raises(ValueError, match=r"\(4,\).*found shape \(3,\)"):
        d.log_prob(torch.full((3,), 0.5))
    with pytest.raises(ValueError, match=r"\(4,\).*found shape \(2, 4, 2\)"):
        d.log_prob(torch.full((2, 4, 2), 0.5))
    with pytest.raises(TypeError, match=r"value: expected a torch\.Tensor, found float"):
        d.log_prob(0.5)  # type: ignore[arg-type]


def test_normal_accepts_what_we_accept_and_refuses_what_we_refuse() -> None:
    """Our always-on shape rule is torch's validated one (checked against Normal)."""
    normal = Normal(torch.zeros(4), torch.ones(4), validate_args=True)
    ours = _make_logistic((4,))
    for shape in [(4,), (1,), (), (3, 1), (2, 4)]:
        value = torch.zeros(shape)
        assert ours.log_prob(value).shape == normal.log_prob(value).shape
    for shape in [(3,), (4, 2)]:
        value = torch.zeros(shape)
        with pytest.raises(ValueError, match="broadcastable"):
            normal.log_prob(value)
        with pytest.raises(ValueError, match="broadcast with batch_shape"):
            ours.log_prob(value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_moments_have_batch_shape(case: Case) -> None:
    d = case.make((2, 3), None)
    for moment in (d.mean, d.mode, d.variance, d.stddev, d.entropy()):
        assert moment.shape == (2, 3)
        assert bool(torch.isfinite(moment).all())
    assert bool((d.variance > 0).all())

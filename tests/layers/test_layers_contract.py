"""The layer contract, checked for every distribution layer from one registry of cases.

For each layer and batch shape ``()``, ``(4,)``, ``(2, 3)``: the returned distribution's
``batch_shape``/``event_shape``; ``log_prob`` equal to the same distribution built by hand
(from ``torch.distributions`` wherever torch has the family); gradients reaching every
parameter and the network in front (``nn.Sequential``); a ``ValueError`` naming both
shapes when the last dimension is not ``params_size``; ``params_size`` on the class and on
the instance; and the trailing-1 trap refused by every layer and conditioned model (one
shared rule, ``check_no_trailing_one``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
import torch.distributions as td
from torch import nn
from torch.nn.functional import softplus

from pygen.distributions import (
    MADE,
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)
from pygen.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from pygen.distributions.quantized_distribution import QuantizedDistribution
from pygen.layers import (
    Categorical,
    CategoricalMixtureOfOneHotCategorical,
    ConditionalAutoregressive,
    DistributionLambda,
    IndependentBernoulli,
    IndependentCategorical,
    IndependentDiscretizedLogisticMixture,
    IndependentLogistic,
    IndependentNormal,
    IndependentPoisson,
    IndependentQuantizedDistribution,
    MixtureLogistic,
    MixtureNormal,
    MixtureSameFamily,
    MultivariateNormalTriL,
    OneHotCategorical,
)

BATCH_SHAPES = [(), (4,), (2, 3)]
E = (2, 3)  # the event shape used for the per-element layers


def torch_logistic(loc: torch.Tensor, scale: torch.Tensor) -> td.Distribution:
    """torch's own logistic: a uniform pushed through logit, then an affine map."""
    base = td.Uniform(torch.zeros_like(loc), torch.ones_like(loc))
    return td.TransformedDistribution(
        base, [td.SigmoidTransform().inv, td.AffineTransform(loc, scale)]
    )


def blocks(p: torch.Tensor, k: int) -> torch.Tensor:
    """Flat params ``[*B, k * 6]`` as ``[*B, k, 2, 3]`` (the parameter-major layout)."""
    return p.unflatten(-1, (k, *E))


def by_element(p: torch.Tensor, k: int) -> torch.Tensor:
    """Flat params ``[*B, 6 * k]`` as ``[*B, 2, 3, k]``: the original pygen's layout, each
    element's ``k`` numbers contiguous (IndependentCategorical, IndependentQuantized...)."""
    return p.unflatten(-1, (*E, k))


def ref_mvn_tril(p: torch.Tensor) -> td.Distribution:
    loc, e = p[..., :3], p[..., 3:]
    zero = torch.zeros_like(e[..., 0])
    diag = [softplus(e[..., i]) + 1e-5 for i in (0, 2, 5)]
    rows = [
        torch.stack([diag[0], zero, zero], -1),
        torch.stack([e[..., 1], diag[1], zero], -1),
        torch.stack([e[..., 3], e[..., 4], diag[2]], -1),
    ]
    return td.MultivariateNormal(loc, scale_tril=torch.stack(rows, -2))


def ref_mixture_normal_2(p: torch.Tensor) -> td.Distribution:
    components = p[..., 3:].unflatten(-1, (3, 4))
    normal = td.Normal(components[..., :2], softplus(components[..., 2:]))
    return td.MixtureSameFamily(td.Categorical(logits=p[..., :3]), td.Independent(normal, 1))


def ref_mixture_normal_scalar(p: torch.Tensor) -> td.Distribution:
    components = p[..., 3:].unflatten(-1, (3, 2))
    normal = td.Normal(components[..., 0], softplus(components[..., 1]))
    return td.MixtureSameFamily(td.Categorical(logits=p[..., :3]), normal)


def ref_mixture_logistic(p: torch.Tensor) -> td.Distribution:
    components = p[..., 3:].unflatten(-1, (3, 4))
    logistic = torch_logistic(components[..., :2], softplus(components[..., 2:]))
    return td.MixtureSameFamily(td.Categorical(logits=p[..., :3]), td.Independent(logistic, 1))


def ref_mixture_one_hot(p: torch.Tensor) -> td.Distribution:
    components = td.OneHotCategorical(logits=p[..., 3:].unflatten(-1, (3, 4)))
    return td.MixtureSameFamily(td.Categorical(logits=p[..., :3]), components)


def ref_dlm(p: torch.Tensor) -> td.Distribution:
    b = blocks(p, 6)  # logits 0..1, loc 2..3, raw scale 4..5
    logits, loc, scale = b[..., 0:2, :, :], b[..., 2:4, :, :], softplus(b[..., 4:6, :, :])
    dlm = DiscretizedLogisticMixture(
        logits.movedim(-3, -1), loc.movedim(-3, -1), scale.movedim(-3, -1), num_bins=16
    )
    return td.Independent(dlm, 2)


def normal_from_pair(t: torch.Tensor) -> td.Distribution:
    return td.Normal(t[..., 0], t[..., 1].exp())


@dataclass(frozen=True)
class Case:
    """One layer: how to make it, how many params it reads, the event it returns, and the
    same distribution built by hand from flat params ``[*B, size]``."""

    name: str
    make: Callable[[], nn.Module]
    size: int
    event_shape: tuple[int, ...]
    reference: Callable[[torch.Tensor], td.Distribution]
    has_params_size: bool = True


CASES = [
    Case(
        "categorical", lambda: Categorical(num_classes=5), 5, (), lambda p: td.Categorical(logits=p)
    ),
    Case(
        "independent_categorical",
        lambda: IndependentCategorical(E, num_classes=4),
        24,
        E,
        lambda p: td.Independent(td.Categorical(logits=by_element(p, 4)), 2),
    ),
    Case(
        "independent_bernoulli",
        lambda: IndependentBernoulli(E),
        6,
        E,
        lambda p: td.Independent(td.Bernoulli(logits=blocks(p, 1)[..., 0, :, :]), 2),
    ),
    Case(
        "independent_quantized_distribution",
        lambda: IndependentQuantizedDistribution(E, num_buckets=4),
        24,
        E,
        lambda p: td.Independent(QuantizedDistribution(by_element(p, 4)), 2),
    ),
    Case(
        "one_hot_categorical",
        lambda: OneHotCategorical(5),
        5,
        (5,),
        lambda p: td.OneHotCategorical(logits=p),
    ),
    Case(
        "independent_normal",
        lambda: IndependentNormal(E),
        12,
        E,
        lambda p: td.Independent(
            td.Normal(blocks(p, 2)[..., 0, :, :], softplus(blocks(p, 2)[..., 1, :, :])), 2
        ),
    ),
    Case(
        "independent_logistic",
        lambda: IndependentLogistic(E),
        12,
        E,
        lambda p: td.Independent(
            torch_logistic(blocks(p, 2)[..., 0, :, :], softplus(blocks(p, 2)[..., 1, :, :])), 2
        ),
    ),
    Case(
        "independent_poisson",
        lambda: IndependentPoisson(E),
        6,
        E,
        lambda p: td.Independent(td.Poisson(blocks(p, 1)[..., 0, :, :].exp()), 2),
    ),
    Case(
        "mixture_same_family",
        lambda: MixtureSameFamily(3, IndependentNormal(2), component_params_size=4),
        15,
        (2,),
        ref_mixture_normal_2,
    ),
    Case("mixture_normal", lambda: MixtureNormal(3), 9, (), ref_mixture_normal_scalar),
    Case(
        "mixture_logistic",
        lambda: MixtureLogistic(3, event_shape=2),
        15,
        (2,),
        ref_mixture_logistic,
    ),
    Case("multivariate_normal_tril", lambda: MultivariateNormalTriL(3), 9, (3,), ref_mvn_tril),
    Case(
        "categorical_mixture_of_one_hot_categorical",
        lambda: CategoricalMixtureOfOneHotCategorical(4, 3),
        15,
        (4,),
        ref_mixture_one_hot,
    ),
    Case(
        "distribution_lambda",
        lambda: DistributionLambda(normal_from_pair),
        2,
        (),
        normal_from_pair,
        has_params_size=False,
    ),
    Case(
        "independent_discretized_logistic_mixture",
        lambda: IndependentDiscretizedLogisticMixture(E, num_mixtures=2, num_bins=16),
        36,
        E,
        ref_dlm,
    ),
]
IDS = [case.name for case in CASES]


def test_registry_covers_every_distribution_layer() -> None:
    import pygen.layers

    # ConditionalAutoregressive and ConditionalFlow wrap a trainable model; their own test
    # files check them. The variational layers return tensors (their weights are random),
    # the weight posteriors/priors, objective and predictive helpers are not layers:
    # test_layers_variational_layers.py checks them.
    variational = {
        "ClassificationPrediction",
        "Conv2dFlipout",
        "Conv2dReparameterization",
        "DenseFlipout",
        "DenseLocalReparameterization",
        "DenseReparameterization",
        "DenseVariational",
        "MeanFieldNormal",
        "RegressionPrediction",
        "StandardNormalPrior",
        "VariableLayer",
        "VariationalObjective",
        "predict_classification",
        "predict_regression",
    }
    not_distribution_layers = {
        "ClassifierNet",
        "ConditionalAutoregressive",
        "ConditionalFlow",
        "OneHot",
        *variational,
    }
    covered = {type(case.make()).__name__ for case in CASES}
    assert covered == set(pygen.layers.__all__) - not_distribution_layers


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_params_size_matches_registry(case: Case) -> None:
    if case.has_params_size:
        layer = case.make()
        sizes = {
            "categorical": lambda: Categorical.params_size(5),
            "independent_categorical": lambda: IndependentCategorical.params_size(E, 4),
            "independent_bernoulli": lambda: IndependentBernoulli.params_size(E),
            "independent_quantized_distribution": lambda: (
                IndependentQuantizedDistribution.params_size(E, 4)
            ),
            "one_hot_categorical": lambda: OneHotCategorical.params_size(5),
            "independent_normal": lambda: IndependentNormal.params_size(E),
            "independent_logistic": lambda: IndependentLogistic.params_size(E),
            "independent_poisson": lambda: IndependentPoisson.params_size(E),
            "mixture_same_family": lambda: MixtureSameFamily.params_size(
                3, IndependentNormal.params_size(2)
            ),
            "mixture_normal": lambda: MixtureNormal.params_size(3),
            "mixture_logistic": lambda: MixtureLogistic.params_size(3, 2),
            "multivariate_normal_tril": lambda: MultivariateNormalTriL.params_size(3),
            "categorical_mixture_of_one_hot_categorical": lambda: (
                CategoricalMixtureOfOneHotCategorical.params_size(4, 3)
            ),
            "independent_discretized_logistic_mixture": lambda: (
                IndependentDiscretizedLogisticMixture.params_size(E, 2)
            ),
        }
        assert sizes[case.name]() == case.size
        # The original pygen's form: on the instance, with no arguments.
        assert layer.params_size() == case.size
    else:
        assert not hasattr(case.make(), "params_size")


@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes(case: Case, batch_shape: tuple[int, ...]) -> None:
    d = case.make()(torch.randn(*batch_shape, case.size))
    assert d.batch_shape == batch_shape
    assert d.event_shape == case.event_shape
    x = d.sample((2,))
    assert x.shape == (2, *batch_shape, *case.event_shape)
    assert d.log_prob(x).shape == (2, *batch_shape)
    assert d.log_prob(d.sample()).shape == batch_shape


@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_equals_hand_built(case: Case, batch_shape: tuple[int, ...]) -> None:
    params = torch.randn(*batch_shape, case.size)
    reference = case.reference(params)
    d = case.make()(params)
    x = reference.sample((3,))
    assert reference.batch_shape == d.batch_shape
    assert reference.event_shape == d.event_shape
    torch.testing.assert_close(d.log_prob(x), reference.log_prob(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_reach_every_parameter(case: Case, batch_shape: tuple[int, ...]) -> None:
    params = torch.randn(*batch_shape, case.size, dtype=torch.float64, requires_grad=True)
    d = case.make()(params)
    x = case.reference(params.detach()).sample((2,))
    d.log_prob(x).sum().backward()
    assert params.grad is not None
    assert torch.isfinite(params.grad).all()
    assert (params.grad != 0).all(), f"no gradient for entries {(params.grad == 0).nonzero()}"


@pytest.mark.parametrize("batch_shape", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_composes_in_sequential(case: Case, batch_shape: tuple[int, ...]) -> None:
    net = nn.Linear(7, case.size)
    model = nn.Sequential(net, case.make())
    d = model(torch.randn(*batch_shape, 7))
    assert d.batch_shape == batch_shape
    assert d.event_shape == case.event_shape
    (-d.log_prob(d.sample()).sum()).backward()
    assert net.weight.grad is not None
    assert net.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("case", [c for c in CASES if c.has_params_size], ids=lambda c: c.name)
def test_wrong_params_size_raises_naming_both_shapes(case: Case) -> None:
    params = torch.randn(4, case.size + 1)
    with pytest.raises(ValueError, match=rf"{case.size}.*\[4, {case.size + 1}\]"):
        case.make()(params)


@pytest.mark.parametrize("case", [c for c in CASES if c.has_params_size], ids=lambda c: c.name)
def test_integer_params_raise_type_error(case: Case) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        case.make()(torch.zeros(4, case.size, dtype=torch.long))


# ------------------------------------------------------------- trailing-1 trap
# A value shaped batch_shape + [1] + event_shape against a batch ending in N > 1 would
# broadcast to [..., N, N] (TFP#535). DistributionLambda returns the user's own
# distribution, so only the layers that build theirs are held to it.
TRAP_CASES = [c for c in CASES if c.name != "distribution_lambda"]
TRAP = r"has shape \[{shape}\].*would broadcast to \[{wide}\].*squeeze.*expand"


def _assert_trap_refused_and_broadcasts_kept(
    d: td.Distribution, batch_shape: tuple[int, ...], event_shape: tuple[int, ...]
) -> None:
    x = d.sample()  # batch_shape + event_shape
    k = len(batch_shape)
    trap = x.unsqueeze(k)
    shape = ", ".join(map(str, trap.shape))
    if k == 1:  # [N, 1, *E] against [N] would broadcast to [N, N]
        n = batch_shape[0]
        with pytest.raises(ValueError, match=TRAP.format(shape=shape, wide=f"{n}, {n}")):
            d.log_prob(trap)
        # The outer product, when it is asked for explicitly, is still there.
        assert d.log_prob(trap.expand(n, n, *event_shape)).shape == (n, n)
    else:  # [A, N, 1, *E] against [A, N]: torch's message would not say why
        with pytest.raises(ValueError, match=rf"has shape \[{shape}\].*trailing-1 trap.*squeeze"):
            d.log_prob(trap)
    assert d.log_prob(x).shape == batch_shape
    # A grid of M != N values still broadcasts against the batch.
    grid = x.reshape(-1, *event_shape)[:3].reshape(3, *([1] * k), *event_shape)
    assert d.log_prob(grid).shape == (3, *batch_shape)


@pytest.mark.parametrize("batch_shape", [(4,), (2, 5)], ids=str)
@pytest.mark.parametrize("case", TRAP_CASES, ids=lambda c: c.name)
def test_trailing_one_trap_is_refused(case: Case, batch_shape: tuple[int, ...]) -> None:
    d = case.make()(torch.randn(*batch_shape, case.size))
    _assert_trap_refused_and_broadcasts_kept(d, batch_shape, case.event_shape)


def test_trap_refused_after_expand() -> None:
    d = IndependentNormal(3)(torch.randn(1, 6)).expand((4,))
    with pytest.raises(ValueError, match="would broadcast to"):
        d.log_prob(torch.zeros(4, 1, 3))


SMALL = {"hidden_channels": 4, "num_layers": 1}
CONDITIONED = {
    "pixelcnn_bernoulli": lambda: PixelCNNBernoulliDistribution(
        [1, 3, 3], condition_size=2, **SMALL
    ),
    "pixelcnn_quantized": lambda: PixelCNNQuantizedDistribution(
        [1, 3, 3], num_buckets=4, condition_size=2, **SMALL
    ),
    "pixelcnn_logistic_mixture": lambda: PixelCNNLogisticMixtureDistribution(
        [1, 3, 3], num_mixtures=2, num_bins=8, condition_size=2, **SMALL
    ),
    "made": lambda: MADE([1, 3, 3], [8], condition_size=2),
}


@pytest.mark.parametrize("make", CONDITIONED.values(), ids=CONDITIONED.keys())
def test_trailing_one_trap_is_refused_by_conditioned_models(make: Callable) -> None:
    model = make()
    condition = torch.randn(4, 2)
    d = ConditionalAutoregressive(model)(condition)
    _assert_trap_refused_and_broadcasts_kept(d, (4,), (1, 3, 3))
    x = d.sample()
    with pytest.raises(ValueError, match=TRAP.format(shape="4, 1, 1, 3, 3", wide="4, 4")):
        model.log_prob(x[:, None], condition)
    with pytest.raises(ValueError, match=TRAP.format(shape="4, 1, 2", wide="4, 4")):
        model.log_prob(x, condition[:, None])
    with pytest.raises(ValueError, match=TRAP.format(shape="4, 1, 2", wide="4, 4")):
        ConditionalAutoregressive(model)(condition[:, None]).log_prob(x)


SCALAR_EVENT = {
    "independent_normal": (IndependentNormal(), 2),
    "independent_logistic": (IndependentLogistic(), 2),
    "independent_poisson": (IndependentPoisson(), 1),
    "independent_bernoulli": (IndependentBernoulli([]), 1),
    "mixture_normal": (MixtureNormal(3), 9),
    "mixture_logistic": (MixtureLogistic(3), 9),
}


@pytest.mark.parametrize(("layer", "size"), SCALAR_EVENT.values(), ids=SCALAR_EVENT.keys())
def test_scalar_event_layers_refuse_an_n_by_1_value(layer: nn.Module, size: int) -> None:
    # The reproductions: a [N, 1] value against a batch of [N] gave [N, N].
    d = layer(torch.randn(5, size))
    values = torch.ones(5, 1)
    with pytest.raises(ValueError, match=TRAP.format(shape="5, 1", wide="5, 5")):
        d.log_prob(values)
    assert d.log_prob(values.squeeze(-1)).shape == (5,)
    assert d.log_prob(torch.ones(7, 1)).shape == (7, 5)

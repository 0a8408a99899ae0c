"""VariationalObjective's arithmetic and refusals, and the predictive helpers' summaries."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from pygen.layers import (
    DenseFlipout,
    DenseReparameterization,
    IndependentNormal,
    VariationalObjective,
    predict_classification,
    predict_regression,
)


def _model(kl_weight: float = 1.0) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        DenseFlipout(2, 4, kl_weight=kl_weight),
        nn.Tanh(),
        DenseReparameterization(4, IndependentNormal.params_size(1)),
        IndependentNormal(1),
    )


@pytest.mark.parametrize("kl_weight", [1.0, 0.25, 0.0])
def test_objective_is_the_data_term_minus_the_weighted_kl_share(kl_weight: float) -> None:
    model = _model(kl_weight)
    x, y = torch.randn(5, 2), torch.randn(5, 1)
    objective = VariationalObjective(num_examples=40)
    torch.manual_seed(3)
    value, metrics = objective(model, (x, y))
    # the same weights drawn again, by hand: the data term and the two layers' KLs
    torch.manual_seed(3)
    data = model(x).log_prob(y)
    kls = [layer.kl_divergence() for layer in (model[0], model[2])]
    kl = sum(kls)
    weighted = kl_weight * kls[0] + kls[1]
    torch.testing.assert_close(value, data - weighted / 40)
    torch.testing.assert_close(metrics["expected_log_likelihood"], data.detach())
    torch.testing.assert_close(metrics["kl"], (kl / 40).expand(5).detach())
    # the reported ELBO is the unweighted one, whatever the training weight
    torch.testing.assert_close(metrics["elbo"], (data - kl / 40).detach())
    assert all(not metric.requires_grad for metric in metrics.values())
    assert value.requires_grad


def test_summed_over_an_epoch_the_kl_shares_make_one_kl() -> None:
    model = _model()
    objective = VariationalObjective(num_examples=12)
    shares = [
        objective(model, (torch.randn(n, 2), torch.randn(n, 1)))[1]["kl"].sum() for n in (5, 4, 3)
    ]
    torch.testing.assert_close(torch.stack(shares).sum(), objective.kl(model)[0])


def test_the_trailing_one_trap_names_the_shapes_and_the_fix() -> None:
    model = nn.Sequential(DenseReparameterization(2, 2), nn.Identity())
    normal = nn.Sequential(model, _NormalPerExample())
    with pytest.raises(ValueError, match=r"event_shape \[5\].*got \[5, 1\] \(a trailing 1"):
        VariationalObjective(num_examples=10)(normal, (torch.randn(5, 2), torch.randn(5, 1)))


def test_a_batch_of_more_than_one_dimension_is_refused_with_a_hint() -> None:
    model = nn.Sequential(DenseReparameterization(2, 3), _NormalPerElement())
    with pytest.raises(ValueError, match=r"batch_shape \[5, 3\].*one distribution per example"):
        VariationalObjective(num_examples=10)(model, (torch.randn(5, 2), torch.randn(5, 3)))


def test_outputs_and_models_it_cannot_use_are_named() -> None:
    with pytest.raises(TypeError, match="log_prob method; calling it returned Tensor"):
        VariationalObjective(num_examples=3)(DenseFlipout(2, 1), (torch.randn(3, 2), None))
    plain = nn.Sequential(nn.Linear(2, 2), IndependentNormal(1))
    with pytest.raises(ValueError, match=r"\(Sequential\) has no variational layer"):
        VariationalObjective(num_examples=3)(plain, (torch.randn(3, 2), torch.randn(3, 1)))
    with pytest.raises(TypeError, match="num_examples must be an int, got float"):
        VariationalObjective(num_examples=3.0)
    with pytest.raises(ValueError, match="kl_samples must be >= 1, got 0"):
        VariationalObjective(num_examples=3, kl_samples=0)


class _NormalPerExample(nn.Module):
    def forward(self, t: torch.Tensor) -> Normal:
        return Normal(t[:, 0], t[:, 1].exp())


class _NormalPerElement(nn.Module):
    def forward(self, t: torch.Tensor) -> Normal:
        return Normal(t, 1.0)


class _Draws:
    """A stand-in network whose successive calls return the given outputs in turn."""

    def __init__(self, outputs: list[object]) -> None:
        self.outputs: Iterator[object] = iter(outputs)

    def __call__(self, x: torch.Tensor) -> object:
        return next(self.outputs)


def test_predict_regression_summarises_the_draws_exactly() -> None:
    locs = [torch.tensor([1.0, -2.0]), torch.tensor([3.0, -2.0]), torch.tensor([2.0, -2.0])]
    scales = [torch.tensor([1.0, 2.0]), torch.tensor([2.0, 2.0]), torch.tensor([2.0, 2.0])]
    draws = _Draws([Independent(Normal(m, s), 1) for m, s in zip(locs, scales, strict=True)])
    prediction = predict_regression(draws, torch.zeros(2, 1), num_samples=3)
    torch.testing.assert_close(prediction.mean, torch.tensor([2.0, -2.0]))
    torch.testing.assert_close(prediction.epistemic_stddev, torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(prediction.aleatoric_stddev, torch.tensor([math.sqrt(3.0), 2.0]))
    torch.testing.assert_close(prediction.stddev, torch.tensor([2.0, 2.0]))
    # a plain tensor is a mean with no aleatoric part
    tensors = predict_regression(_Draws([torch.ones(2), 3 * torch.ones(2)]), None, num_samples=2)
    torch.testing.assert_close(tensors.aleatoric_stddev, torch.zeros(2))
    torch.testing.assert_close(tensors.epistemic_stddev, torch.full((2,), math.sqrt(2.0)))


def test_predict_classification_splits_entropy_into_aleatoric_and_epistemic() -> None:
    certain_a, certain_b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    disagree = predict_classification(
        _Draws([Categorical(probs=certain_a), Categorical(probs=certain_b)]), None, 2
    )
    torch.testing.assert_close(disagree.probs, torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(disagree.entropy, torch.tensor([math.log(2.0)]))
    torch.testing.assert_close(disagree.expected_entropy, torch.tensor([0.0]))
    torch.testing.assert_close(disagree.mutual_information, torch.tensor([math.log(2.0)]))
    torch.testing.assert_close(disagree.probs_stddev, torch.full((1, 2), math.sqrt(0.5)))
    even = torch.tensor([[0.5, 0.5]])
    agree = predict_classification(
        _Draws([Categorical(probs=even), Categorical(probs=even)]), None, 2
    )
    torch.testing.assert_close(agree.expected_entropy, torch.tensor([math.log(2.0)]))
    torch.testing.assert_close(agree.mutual_information, torch.tensor([0.0]))


def test_predictive_helpers_refuse_what_they_cannot_summarise() -> None:
    with pytest.raises(ValueError, match=r"num_samples must be >= 2 \(a spread\), got 1"):
        predict_regression(_Draws([]), None, num_samples=1)
    with pytest.raises(TypeError, match="num_samples must be an int, got bool"):
        predict_classification(_Draws([]), None, num_samples=True)
    with pytest.raises(TypeError, match=r"a distribution with probs .*, got Tensor"):
        predict_classification(_Draws([torch.zeros(2)] * 2), None, num_samples=2)
    with pytest.raises(TypeError, match="a tensor or a distribution with mean and variance"):
        predict_regression(_Draws([object()] * 2), None, num_samples=2)

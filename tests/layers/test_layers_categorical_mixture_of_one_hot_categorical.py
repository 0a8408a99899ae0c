"""pygen.layers.categorical_mixture_of_one_hot_categorical.CategoricalMixtureOfOneHotCategorical."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import CategoricalMixtureOfOneHotCategorical


def test_arguments_validated() -> None:
    with pytest.raises(ValueError, match="event_size"):
        CategoricalMixtureOfOneHotCategorical(0, 2)
    with pytest.raises(ValueError, match="num_components"):
        CategoricalMixtureOfOneHotCategorical(3, 0)


def test_params_size() -> None:
    assert CategoricalMixtureOfOneHotCategorical.params_size(10, 3) == 33


def test_probabilities_are_the_weighted_component_probabilities() -> None:
    params = torch.randn(5, 33)
    d = CategoricalMixtureOfOneHotCategorical(10, 3)(params)
    weights = params[:, :3].softmax(-1)
    components = params[:, 3:].reshape(5, 3, 10).softmax(-1)
    expected = (weights.unsqueeze(-1) * components).sum(-2)
    one_hots = torch.eye(10).unsqueeze(1)  # [10, 1, 10] against batch [5]
    torch.testing.assert_close(d.log_prob(one_hots).exp().T, expected)


def test_mismatch_names_exact_size() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 33\].*got \[5, 30\]"):
        CategoricalMixtureOfOneHotCategorical(10, 3)(torch.randn(5, 30))

"""pygen.layers.mixture_same_family.MixtureSameFamily."""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td
from torch import nn

from pygen.layers import (
    DistributionLambda,
    IndependentBernoulli,
    IndependentNormal,
    MixtureSameFamily,
)


def test_arguments_validated() -> None:
    with pytest.raises(ValueError, match="num_components"):
        MixtureSameFamily(0, IndependentNormal())
    with pytest.raises(TypeError, match="component_layer must be a layer"):
        MixtureSameFamily(2, "normal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="component_params_size"):
        MixtureSameFamily(2, IndependentNormal(), component_params_size=0)


def test_params_size() -> None:
    assert MixtureSameFamily.params_size(3, 4) == 15
    with pytest.raises(TypeError, match="component_params_size"):
        MixtureSameFamily.params_size(3, 4.0)  # type: ignore[arg-type]


def test_component_params_size_is_inferred_when_not_given() -> None:
    d = MixtureSameFamily(3, IndependentNormal(2))(torch.randn(5, 15))
    assert d.batch_shape == (5,)
    assert d.event_shape == (2,)


def test_last_dim_that_cannot_split_raises() -> None:
    with pytest.raises(
        ValueError, match=r"\[\*batch, 3 \+ 3 \* component_params_size\].*\[5, 16\]"
    ):
        MixtureSameFamily(3, IndependentNormal(2))(torch.randn(5, 16))


def test_component_layer_error_surfaces() -> None:
    # 3 + 3 * 6 splits, but IndependentNormal(2) reads 4 numbers per component
    with pytest.raises(ValueError, match=r"IndependentNormal\(event_shape=\[2\]\).*\[5, 3, 6\]"):
        MixtureSameFamily(3, IndependentNormal(2))(torch.randn(5, 21))


def test_component_with_wrong_batch_shape_raises() -> None:
    def wrong(components: torch.Tensor) -> td.Distribution:
        return td.Normal(components[..., 0, 0], 1.0)  # drops the component dim

    with pytest.raises(ValueError, match=r"batch_shape \[5, 3\].*got \[5\]"):
        MixtureSameFamily(3, wrong)(torch.randn(5, 9))


def test_module_component_parameters_are_registered_and_trained() -> None:
    scale = nn.Parameter(torch.tensor(0.0))
    component = DistributionLambda(lambda t: td.Normal(t[..., 0], scale.exp()))
    component.register_parameter("scale", scale)
    layer = MixtureSameFamily(2, component, component_params_size=1)
    assert any(p is scale for p in layer.parameters())
    layer(torch.randn(4, 4)).log_prob(torch.zeros(4)).sum().backward()
    assert scale.grad is not None


def test_one_component_mixture_of_a_channel_first_event() -> None:
    # [5, 1, 4] components of an IndependentBernoulli([1, 4]) also fit its channel-first
    # layout, which used to swallow the component dimension.
    layer = MixtureSameFamily(1, IndependentBernoulli([1, 4]), 4)
    params = torch.randn(5, 5)
    d = layer(params)
    assert d.batch_shape == (5,)
    assert d.event_shape == (1, 4)
    x = d.sample()
    expected = td.Independent(td.Bernoulli(logits=params[:, 1:].reshape(5, 1, 4)), 2).log_prob(x)
    torch.testing.assert_close(d.log_prob(x), expected)
    # Outside a mixture the channel-first reading still wins.
    assert IndependentBernoulli([1, 4])(torch.randn(5, 1, 4)).batch_shape == (5,)

"""pygen.layers.mixture_logistic.MixtureLogistic."""

from __future__ import annotations

import pytest
import torch
from torch.nn.functional import softplus

from pygen.distributions.logistic import Logistic
from pygen.layers import MixtureLogistic


def test_arguments_validated() -> None:
    with pytest.raises(TypeError, match="num_components"):
        MixtureLogistic(2.0)  # type: ignore[arg-type]


def test_params_size() -> None:
    assert MixtureLogistic.params_size(4) == 12


def test_component_parameters() -> None:
    params = torch.randn(3, 12)
    d = MixtureLogistic(4)(params)
    components = d.component_distribution
    assert isinstance(components, Logistic)
    torch.testing.assert_close(components.loc, params[:, 4:].reshape(3, 4, 2)[..., 0])
    torch.testing.assert_close(components.scale, softplus(params[:, 4:].reshape(3, 4, 2)[..., 1]))

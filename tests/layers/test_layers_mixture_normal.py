"""pygen.layers.mixture_normal.MixtureNormal."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import MixtureNormal


def test_arguments_validated() -> None:
    with pytest.raises(ValueError, match="num_components"):
        MixtureNormal(0)
    with pytest.raises(TypeError, match="event_shape"):
        MixtureNormal(2, event_shape="x")  # type: ignore[arg-type]


def test_params_size() -> None:
    assert MixtureNormal.params_size(5) == 15
    assert MixtureNormal.params_size(2, [2, 3]) == 26


def test_image_event_and_mixture_weights() -> None:
    params = torch.randn(4, MixtureNormal.params_size(2, [2, 3]))
    d = MixtureNormal(2, [2, 3])(params)
    assert d.batch_shape == (4,)
    assert d.event_shape == (2, 3)
    torch.testing.assert_close(d.mixture_distribution.probs, params[:, :2].softmax(-1))
    torch.testing.assert_close(
        d.component_distribution.mean[:, 1], params[:, 14:20].reshape(4, 2, 3)
    )


def test_mismatch_names_exact_size() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 15\].*got \[4, 14\]"):
        MixtureNormal(5)(torch.randn(4, 14))

"""pygen.layers.conditional_autoregressive.ConditionalAutoregressive."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pygen.distributions.made import MADE
from pygen.distributions.maf import MAF
from pygen.distributions.pixelcnn import PixelCNNBernoulliDistribution
from pygen.layers import ConditionalAutoregressive, OneHot


def small_pixelcnn(condition_size: int | None = 4) -> PixelCNNBernoulliDistribution:
    return PixelCNNBernoulliDistribution(
        [1, 4, 4], hidden_channels=4, num_layers=1, condition_size=condition_size
    )


def test_model_of_wrong_kind_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"model must be an nn\.Module with condition_size"):
        ConditionalAutoregressive(nn.Linear(2, 2))


def test_unconditional_model_raises_value_error() -> None:
    with pytest.raises(ValueError, match="condition_size=None"):
        ConditionalAutoregressive(small_pixelcnn(None))


def test_params_size_is_condition_size() -> None:
    assert ConditionalAutoregressive.params_size(MADE([3], [8], condition_size=5)) == 5


def test_condition_of_wrong_size_raises_with_both_shapes() -> None:
    layer = ConditionalAutoregressive(small_pixelcnn())
    with pytest.raises(ValueError, match=r"\[\*batch, 4\], got \[2, 3\]"):
        layer(torch.randn(2, 3))
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.zeros(2, 4, dtype=torch.long))


@pytest.mark.parametrize("batch_shape", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("make", [small_pixelcnn, lambda: MADE([1, 4, 4], [8], condition_size=4)])
def test_shapes_and_log_prob_bound_to_the_condition(make, batch_shape: tuple[int, ...]) -> None:
    model = make()
    condition = torch.randn(*batch_shape, 4)
    d = ConditionalAutoregressive(model)(condition)
    assert d.batch_shape == batch_shape
    assert d.event_shape == (1, 4, 4)
    x = d.sample((2,))
    assert x.shape == (2, *batch_shape, 1, 4, 4)
    torch.testing.assert_close(d.log_prob(x), model.log_prob(x, condition))


def test_gradients_reach_the_network_in_front_and_the_model() -> None:
    model = small_pixelcnn()
    front = nn.Linear(3, 4)
    layer = nn.Sequential(OneHot(3), front, ConditionalAutoregressive(model))
    d = layer(torch.tensor([0, 2]))
    (-d.log_prob(torch.ones(2, 1, 4, 4)).sum()).backward()
    assert front.weight.grad is not None
    assert front.weight.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


class _Unguarded(nn.Module):
    """A duck-typed conditional model that checks nothing itself."""

    condition_size = 2
    event_shape = torch.Size([3])

    def log_prob(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        assert condition is not None
        return (x * condition[..., :1]).sum(-1)

    def sample(self, sample_shape=(), condition=None) -> torch.Tensor:
        assert condition is not None
        return torch.zeros(*sample_shape, *condition.shape[:-1], 3)

    def complete(self, x, observed_mask, sample_shape=(), condition=None) -> torch.Tensor:
        assert condition is not None
        return torch.where(observed_mask, x, self.sample(sample_shape, condition))


@pytest.mark.parametrize("model", [small_pixelcnn(), _Unguarded()], ids=["pixelcnn", "duck"])
def test_stray_one_in_the_value_is_refused_not_broadcast(model: nn.Module) -> None:
    d = ConditionalAutoregressive(model)(torch.randn(5, model.condition_size))
    x = torch.zeros(5, *model.event_shape)
    with pytest.raises(ValueError, match=r"value has shape \[5, 1, .*broadcast to \[5, 5\]"):
        d.log_prob(x[:, None])
    assert d.log_prob(x).shape == (5,)
    assert d.log_prob(x[:2, None]).shape == (2, 5)


def test_stray_one_in_the_condition_is_refused_by_the_model() -> None:
    d = ConditionalAutoregressive(small_pixelcnn())(torch.randn(5, 1, 4))
    with pytest.raises(ValueError, match=r"condition has shape \[5, 1, 4\]"):
        d.log_prob(torch.zeros(5, 1, 4, 4))


def test_condition_map_model_binds_maps_and_completes() -> None:
    torch.manual_seed(0)
    model = PixelCNNBernoulliDistribution(
        [1, 4, 5], hidden_channels=4, num_layers=2, condition_channels=2
    )
    layer = ConditionalAutoregressive(model)
    assert ConditionalAutoregressive.params_size(model) == 2 * 4 * 5
    with pytest.raises(ValueError, match=r"\[\*batch, 2, 4, 5\], got \[3, 2\]"):
        layer(torch.randn(3, 2))
    maps = torch.randn(3, 2, 4, 5)
    d = layer(maps)
    assert d.batch_shape == (3,)
    x = d.sample((2,), generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, 3, 1, 4, 5)
    torch.testing.assert_close(d.log_prob(x), model.log_prob(x, maps))
    mask = torch.zeros(1, 4, 5, dtype=torch.bool)
    mask[:, :2] = True
    done = d.complete(x[0], mask, (4,), temperature=0.5, generator=torch.Generator().manual_seed(1))
    assert done.shape == (4, 3, 1, 4, 5)
    assert torch.equal(done[..., :2, :], x[0, :, :, :2].expand(4, 3, 1, 2, 5))
    same = model.complete(
        x[0], mask, (4,), maps, temperature=0.5, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(done, same)
    with pytest.warns(DeprecationWarning, match=r"images= is now called x="):
        old = d.complete(
            images=x[0], observed_mask=mask, sample_shape=(4,), temperature=0.5,
            generator=torch.Generator().manual_seed(1),
        )  # fmt: skip
    assert torch.equal(old, same)


def test_a_model_without_complete_is_refused_when_the_layer_is_built() -> None:
    class NoComplete(nn.Module):
        condition_size = 2
        event_shape = torch.Size([3])

        def log_prob(self, x, condition=None):
            return x.sum(-1)

        def sample(self, sample_shape=(), condition=None):
            return torch.zeros(*sample_shape, *condition.shape[:-1], 3)

    with pytest.raises(TypeError, match=r"complete\(x, observed_mask, sample_shape, condition\), "
                       r"got NoComplete"):  # fmt: skip
        ConditionalAutoregressive(NoComplete())


def test_a_conditional_maf_is_a_conditional_model_too() -> None:
    torch.manual_seed(0)
    maf = MAF(3, num_transforms=2, hidden_sizes=[8], condition_size=2, alternate_order=False)
    d = ConditionalAutoregressive(maf)(torch.randn(4, 2))
    x = d.sample((5,), generator=torch.Generator().manual_seed(0))
    assert x.shape == (5, 4, 3)
    assert d.log_prob(x).shape == (5, 4)
    mask = torch.tensor([True, False, False])
    done = d.complete(x[0], mask, (2,), generator=torch.Generator().manual_seed(1))
    assert done.shape == (2, 4, 3)
    assert torch.equal(done[..., 0], x[0, :, 0].expand(2, 4))

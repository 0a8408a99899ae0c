"""Tests of pygen.distributions.made.MADE."""

from __future__ import annotations

import itertools

import pytest
import torch

from pygen.distributions import MADE

ALL_10 = torch.tensor(list(itertools.product([0.0, 1.0], repeat=10)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"event_shape": [0, 3]}, ValueError, r"event_shape: expected a sequence of positive ints"),
        ({"event_shape": 10}, TypeError, "event_shape: expected a sequence of ints"),
        ({"event_shape": [10], "hidden_sizes": [8, 0]}, ValueError, "hidden_sizes"),
        ({"event_shape": [10], "num_masks": 0}, ValueError, "num_masks: expected an int >= 1"),
        ({"event_shape": [10], "natural_ordering": 1}, TypeError, "natural_ordering"),
        ({"event_shape": [10], "condition_size": -2}, ValueError, "condition_size"),
    ],
)
def test_constructor_validation(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        MADE(**kwargs)


def test_value_and_condition_errors() -> None:
    made = MADE([2, 5], [8])
    with pytest.raises(ValueError, match=r"event_shape \(2, 5\), found shape \(3, 10\)"):
        made.log_prob(torch.zeros(3, 10))
    with pytest.raises(ValueError, match=r"binary values \(0 or 1\) for MADE, found 0.5"):
        made.log_prob(torch.full((2, 5), 0.5))
    with pytest.raises(TypeError, match=r"x: expected a torch.Tensor"):
        made.log_prob(1.0)
    with pytest.raises(ValueError, match="built without condition_size"):
        made.log_prob(torch.zeros(2, 5), torch.zeros(4))
    conditional = MADE([4], [8], condition_size=3)
    with pytest.raises(ValueError, match=r"condition_size=3; expected a tensor"):
        conditional.sample((2,))
    with pytest.raises(ValueError, match=r"expected shape \[\.\.\., 3\].*found shape \(2, 4\)"):
        conditional.log_prob(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"index: expected an int in \[0, 1\), found 1"):
        made.resample_mask(1)
    with pytest.raises(ValueError, match="sample_shape: expected non-negative ints"):
        made.sample((-2,))


def test_shapes_and_support() -> None:
    made = MADE([1, 3, 4], [16, 16])
    assert made.event_shape == (1, 3, 4)
    assert made.batch_shape == ()
    x = made.sample((2, 5))
    assert x.shape == (2, 5, 1, 3, 4)
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert made.log_prob(x).shape == (2, 5)
    assert made(x[0, 0]).shape == ()
    assert made.training


def _train(made: MADE, data: torch.Tensor, steps: int = 25, resample: bool = False) -> None:
    optimizer = torch.optim.Adam(made.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        (-made.log_prob(data).mean()).backward()
        optimizer.step()
        if resample:
            made.resample_mask()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden_sizes": [32, 32]},
        {"hidden_sizes": [], "natural_ordering": True},
        {"hidden_sizes": [24], "num_masks": 3},
    ],
    ids=["deep", "linear", "order-resampling"],
)
def test_exact_normalisation_10_binary_dims(kwargs: dict) -> None:
    torch.manual_seed(0)
    made = MADE([10], **kwargs).double()
    data = (torch.rand(64, 10) < 0.3).double()
    data[:, 0] = data[:, 9] = 1.0
    assert made.log_prob(ALL_10.double()).exp().sum().item() == pytest.approx(1.0, abs=1e-5)
    _train(made, data, resample=made.num_masks > 1)
    for index in range(made.num_masks):
        made.resample_mask(index)
        log_p = made.log_prob(ALL_10.double())
        assert log_p.exp().sum().item() == pytest.approx(1.0, abs=1e-5)
        assert log_p.max() > log_p.min() + 1.0  # trained: far from uniform
    ensemble = made.ensemble_log_prob(ALL_10.double())
    assert ensemble.exp().sum().item() == pytest.approx(1.0, abs=1e-5)


def test_autoregressive_in_its_order() -> None:
    """Logit of the k-th variable in the ordering depends exactly on the variables before it."""
    made = MADE([6], [64, 64], num_masks=2, seed=3).double()
    made.resample_mask(1)
    order = made.order.tolist()
    assert order != list(range(6))  # mask set 1 uses a random order
    assert sorted(order) == list(range(6))
    x = torch.rand(16, 6, dtype=torch.float64, requires_grad=True)
    logits = made.logits(x)
    for position, d in enumerate(order):
        (grad,) = torch.autograd.grad(logits[:, d].sum(), x, retain_graph=True)
        seen = set(order[:position])
        for other in range(6):
            depends = bool((grad[:, other] != 0).any())
            assert depends == (other in seen), (d, other)


def test_mask_index_survives_state_dict() -> None:
    made = MADE([5], [16], num_masks=4)
    made.resample_mask()
    made.resample_mask()
    clone = MADE([5], [16], num_masks=4)
    clone.load_state_dict(made.state_dict())
    assert clone.mask_index == 2
    x = (torch.rand(8, 5) < 0.5).float()
    torch.testing.assert_close(clone.log_prob(x), made.log_prob(x))
    made.resample_mask()
    made.resample_mask()
    assert made.mask_index == 0  # cycles


def test_conditional_made() -> None:
    torch.manual_seed(1)
    made = MADE([4], [32], condition_size=2).double()
    labels = torch.eye(2, dtype=torch.float64)
    data = torch.cat([torch.ones(16, 4), torch.zeros(16, 4)]).double()
    data_labels = labels[torch.arange(32) // 16]
    optimizer = torch.optim.Adam(made.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        (-made.log_prob(data, data_labels).mean()).backward()
        optimizer.step()
    everything = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4))).double()
    log_p = made.log_prob(everything[:, None], labels)
    assert log_p.shape == (16, 2)
    torch.testing.assert_close(log_p.exp().sum(0), torch.ones(2, dtype=torch.float64))
    samples = made.sample((50,), labels, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (50, 2, 4)
    assert samples[:, 0].mean() > 0.9
    assert samples[:, 1].mean() < 0.1


def test_sampling_same_seed_same_samples() -> None:
    made = MADE([3, 3], [16], num_masks=2)
    a = made.sample((6,), generator=torch.Generator().manual_seed(1))
    b = made.sample((6,), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_stray_one_in_x_or_condition_is_refused_not_broadcast() -> None:
    made = MADE([5], [8], condition_size=2)
    x = (torch.rand(3, 5) < 0.5).float()
    condition = torch.randn(3, 2)
    with pytest.raises(ValueError, match=r"x has shape \[3, 1, 5\].*broadcast to \[3, 3\]"):
        made.log_prob(x[:, None], condition)
    with pytest.raises(ValueError, match=r"condition has shape \[3, 1, 2\].*broadcast to \[3, 3\]"):
        made.log_prob(x, condition[:, None])
    assert made.log_prob(x, condition).shape == (3,)
    assert made.log_prob(x[:2, None], condition).shape == (2, 3)

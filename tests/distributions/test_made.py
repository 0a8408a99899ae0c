"""Tests of pygen.distributions.made.MADE."""

from __future__ import annotations

import itertools

import pytest
import torch
from scipy import stats

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


# ------------------------------------------------- completion and temperature


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("hidden_sizes", [(), (24,), (24, 16)], ids=str)
@pytest.mark.parametrize("condition_size", [None, 3])
def test_fast_sample_and_completion_equal_naive(hidden_sizes, condition_size) -> None:
    torch.manual_seed(0)
    made = MADE([2, 5], hidden_sizes, num_masks=3, condition_size=condition_size).double()
    made.resample_mask(2)  # a random ordering
    condition = None if condition_size is None else torch.randn(4, 3, dtype=torch.float64)
    shape = (8,) if condition is None else (2,)
    fast = made.sample(shape, condition, generator=_seeded(1))
    assert torch.equal(fast, made.sample(shape, condition, generator=_seeded(1), method="naive"))
    mask = torch.rand(fast.shape, generator=_seeded(2)) < 0.5
    kwargs = {"condition": condition, "sample_shape": (3,), "temperature": 0.6}
    done = made.complete(fast, mask, generator=_seeded(3), **kwargs)
    assert torch.equal(
        done, made.complete(fast, mask, method="naive", generator=_seeded(3), **kwargs)
    )
    assert done.shape == (3, *fast.shape)
    assert torch.equal(done[mask.expand_as(done)], fast.expand_as(done)[mask.expand_as(done)])
    empty = torch.zeros(2, 5, dtype=torch.bool)
    nothing = made.complete(torch.zeros(2, 5), empty, shape, condition, generator=_seeded(1))
    assert torch.equal(nothing, fast)
    assert torch.equal(made.sample(shape, condition, generator=_seeded(1), temperature=1.0), fast)


def test_completion_errors() -> None:
    made = MADE([4], [8])
    with pytest.raises(TypeError, match=r"observed_mask: expected dtype torch\.bool"):
        made.complete(torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match=r"x: expected a shape ending in event_shape \(4,\)"):
        made.complete(torch.zeros(3), torch.zeros(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="binary values"):
        made.complete(torch.full((4,), 0.5), torch.ones(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="temperature: expected a positive finite float"):
        made.sample((2,), temperature=0)
    with pytest.raises(ValueError, match="method: expected one of"):
        made.sample((2,), method="other")


def test_prefix_completion_in_the_masks_order_matches_the_exact_conditional() -> None:
    """Chi-square test (fails below p = 1e-4: false-failure rate 1e-4) against enumeration.

    The ordering is a random permutation; the observed variables are its first three, and
    the completions are compared with ``p(rest | observed)`` over the 2**5 configurations.
    """
    torch.manual_seed(1)
    made = MADE([8], [32], num_masks=2).double()
    made.resample_mask(1)
    data = (torch.rand(256, 1, generator=_seeded(0)) < 0.5).double().expand(256, 8).clone()
    flips = torch.rand(256, 8, generator=_seeded(1)) < 0.15
    data = torch.where(flips, 1 - data, data)
    optimizer = torch.optim.Adam(made.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        (-made.log_prob(data).mean()).backward()
        optimizer.step()
    order = made.order.tolist()
    everything = torch.tensor([[(k >> d) & 1 for d in range(8)] for k in range(256)]).double()
    probs = made.log_prob(everything).exp().detach()
    observed = order[:3]
    mask = torch.zeros(8, dtype=torch.bool)
    mask[observed] = True
    image = torch.zeros(8, dtype=torch.float64)
    image[observed] = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    rows = (everything[:, observed] == image[observed]).all(-1)
    exact = probs[rows] / probs[rows].sum()
    rest = order[3:]
    weights = 2 ** torch.arange(4, -1, -1)
    codes_exact = (everything[rows][:, rest].long() * weights).sum(-1)
    n = 20000
    out = made.complete(image, mask, (n,), generator=_seeded(5))
    assert torch.equal(out[:, observed], image[observed].expand(n, 3))
    counts = torch.bincount((out[:, rest].long() * weights).sum(-1), minlength=32).double()
    expected = torch.zeros(32, dtype=torch.float64)
    expected[codes_exact] = exact * n
    small = expected < 5
    f_obs = torch.cat([counts[~small], counts[small].sum()[None]])
    f_exp = torch.cat([expected[~small], expected[small].sum()[None]])
    keep = f_exp > 0
    assert stats.chisquare(f_obs[keep].numpy(), f_exp[keep].numpy()).pvalue > 1e-4
    # the prefix matters: the unconditional marginal of the rest is far from it
    marginal = torch.zeros(32, dtype=torch.float64).index_add_(
        0, (everything[:, rest].long() * weights).sum(-1), probs
    )
    assert (marginal - expected / n).abs().sum() / 2 > 0.1


def test_low_temperature_is_greedy_decoding() -> None:
    torch.manual_seed(2)
    made = MADE([6], [16], num_masks=2).double()
    made.resample_mask(1)
    greedy = torch.zeros(1, 6, dtype=torch.float64)
    with torch.no_grad():
        for d in made.order.tolist():
            greedy[0, d] = float(made.logits(greedy)[0, d] > 0)
    cold = made.sample((5,), generator=_seeded(0), temperature=1e-6)
    assert torch.equal(cold, greedy.expand(5, 6))
    assert not torch.equal(made.sample((5,), generator=_seeded(0)), cold)

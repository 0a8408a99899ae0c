"""Tests of pygen.distributions.pixelcnn: validation, shapes, normalisation, causality."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from pygen.distributions import (
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)

SMALL = {"hidden_channels": 6, "num_layers": 3, "kernel_size": 3}


def _all_images(event_shape: tuple[int, ...], levels: torch.Tensor) -> torch.Tensor:
    """Every image whose sub-pixels take values in ``levels``: ``[L**D, *event_shape]``."""
    size = math.prod(event_shape)
    grid = torch.tensor(list(itertools.product(range(len(levels)), repeat=size)))
    return levels[grid].reshape(-1, *event_shape)


def _train(model: torch.nn.Module, data: torch.Tensor, steps: int = 25, lr: float = 0.05) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        (-model.log_prob(data).mean()).backward()
        optimizer.step()


# ----------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"event_shape": [28, 28]}, ValueError, r"expected 3 dims \[C, H, W\].*found 2 dims"),
        ({"event_shape": [1, 0, 4]}, ValueError, r"positive ints.*\[1, 0, 4\]"),
        ({"event_shape": "1x4x4"}, TypeError, "event_shape: expected a sequence"),
        ({"event_shape": [3, 4, 4], "hidden_channels": 2}, ValueError, r">= C = 3\), found 2"),
        (
            {"event_shape": [1, 4, 4], "num_layers": 0},
            ValueError,
            "num_layers: expected an int >= 1",
        ),
        ({"event_shape": [1, 4, 4], "kernel_size": 4}, ValueError, "kernel_size: expected an odd"),
        ({"event_shape": [1, 4, 4], "hidden_channels": 2.5}, TypeError, "hidden_channels"),
        ({"event_shape": [1, 4, 4], "condition_size": 0}, ValueError, "condition_size"),
    ],
)
def test_constructor_validation(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PixelCNNBernoulliDistribution(**kwargs)


def test_quantized_and_mixture_constructor_validation() -> None:
    with pytest.raises(ValueError, match="num_buckets: expected an int >= 2, found 1"):
        PixelCNNQuantizedDistribution([1, 2, 2], num_buckets=1)
    with pytest.raises(ValueError, match="num_mixtures: expected an int >= 1, found 0"):
        PixelCNNLogisticMixtureDistribution([1, 2, 2], num_mixtures=0)
    with pytest.raises(ValueError, match="num_bins: expected an int >= 2, found 1"):
        PixelCNNLogisticMixtureDistribution([1, 2, 2], num_bins=1)


def test_log_prob_shape_errors_name_expected_and_found() -> None:
    model = PixelCNNBernoulliDistribution([1, 4, 4], **SMALL)
    with pytest.raises(ValueError, match=r"\[\.\.\., 1, 4, 4\].*found shape \(2, 1, 4, 5\)"):
        model.log_prob(torch.zeros(2, 1, 4, 5))
    with pytest.raises(ValueError, match=r"found shape \(2, 4, 4\) \(missing channel dimension"):
        model.log_prob(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"found shape \(4, 4\) \(missing channel dimension"):
        model.log_prob(torch.zeros(4, 4))
    with pytest.raises(TypeError, match=r"x: expected a torch.Tensor, found list"):
        model.log_prob([[0.0]])


def test_log_prob_support_errors() -> None:
    bernoulli = PixelCNNBernoulliDistribution([1, 2, 2], **SMALL)
    x = torch.zeros(1, 2, 2)
    x[0, 1, 1] = 0.5
    with pytest.raises(ValueError, match=r"binary values \(0 or 1\).*found 0.5; binarize"):
        bernoulli.log_prob(x)
    quantized = PixelCNNQuantizedDistribution([1, 2, 2], **SMALL)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*found 1.5"):
        quantized.log_prob(torch.full((1, 2, 2), 1.5))
    mixture = PixelCNNLogisticMixtureDistribution([1, 2, 2], **SMALL)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*found -0.25"):
        mixture.log_prob(torch.full((1, 2, 2), -0.25))
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*found nan"):
        mixture.log_prob(torch.full((1, 2, 2), float("nan")))


def test_condition_errors() -> None:
    plain = PixelCNNBernoulliDistribution([1, 2, 2], **SMALL)
    x = torch.zeros(3, 1, 2, 2)
    with pytest.raises(ValueError, match="built without condition_size"):
        plain.log_prob(x, torch.zeros(3, 2))
    conditional = PixelCNNBernoulliDistribution([1, 2, 2], condition_size=2, **SMALL)
    with pytest.raises(
        ValueError, match=r"condition_size=2; expected a tensor of shape \[\.\.\., 2\]"
    ):
        conditional.log_prob(x)
    with pytest.raises(ValueError, match=r"expected shape \[\.\.\., 2\].*found shape \(3, 5\)"):
        conditional.log_prob(x, torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"broadcast with those of x \(3,\).*\(4, 2\)"):
        conditional.log_prob(x, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="condition_size=2"):
        conditional.sample((2,))


def test_sample_argument_errors() -> None:
    model = PixelCNNBernoulliDistribution([1, 2, 2], **SMALL)
    with pytest.raises(
        ValueError, match=r"method: expected one of \('fast', 'naive'\), found 'slow'"
    ):
        model.sample((1,), method="slow")
    with pytest.raises(TypeError, match="sample_shape: expected a sequence of ints"):
        model.sample(3)
    with pytest.raises(ValueError, match=r"sample_shape: expected non-negative ints, found \[-1\]"):
        model.sample((-1,))


# ------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "model",
    [
        PixelCNNBernoulliDistribution([1, 3, 4], **SMALL),
        PixelCNNQuantizedDistribution([3, 3, 4], num_buckets=4, **SMALL),
        PixelCNNLogisticMixtureDistribution([2, 3, 4], num_mixtures=2, **SMALL),
    ],
    ids=["bernoulli", "quantized", "mixture"],
)
def test_shapes(model: PixelCNNBernoulliDistribution) -> None:
    assert model.batch_shape == torch.Size([])
    shape = model.event_shape
    assert model.sample().shape == shape
    x = model.sample((2, 3))
    assert x.shape == (2, 3, *shape)
    assert model.log_prob(x).shape == (2, 3)
    assert model.log_prob(x[0, 0]).shape == ()
    assert model(x).shape == (2, 3)
    assert torch.isfinite(model.log_prob(x)).all()
    assert model.sample((0,)).shape == (0, *shape)
    assert model.training  # sample() restores the module's mode


def test_samples_are_in_the_support() -> None:
    bern = PixelCNNBernoulliDistribution([1, 4, 4], **SMALL).sample((8,))
    assert set(bern.unique().tolist()) <= {0.0, 1.0}
    quant = PixelCNNQuantizedDistribution([2, 4, 4], num_buckets=4, **SMALL).sample((8,))
    assert ((quant >= 0) & (quant <= 1)).all()
    assert len(torch.unique(quant)) > 100  # uniform inside the buckets, not bucket centres
    mix = PixelCNNLogisticMixtureDistribution([2, 4, 4], num_bins=16, **SMALL).sample((8,))
    assert torch.equal(mix * 15, (mix * 15).round())


# ---------------------------------------------------------------- normalisation


def _assert_normalised(model: torch.nn.Module, images: torch.Tensor, data: torch.Tensor) -> None:
    """sum_x exp(log p(x)) == 1 at initialisation and after a few large Adam steps."""
    model = model.double()
    images = images.double()
    total = model.log_prob(images).exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-5)
    _train(model, data.double())
    log_p = model.log_prob(images)
    total = log_p.exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-5)
    # Training moved the model away from uniform: it is not trivially normalised.
    assert log_p.max().item() > log_p.min().item() + 1.0


@pytest.mark.parametrize("event_shape", [(1, 2, 2), (1, 3, 3), (3, 2, 2)])
def test_bernoulli_exact_normalisation(event_shape: tuple[int, int, int]) -> None:
    torch.manual_seed(1)
    model = PixelCNNBernoulliDistribution(event_shape, **SMALL)
    images = _all_images(event_shape, torch.tensor([0.0, 1.0]))
    data = (torch.rand(32, *event_shape) < 0.3).float()
    data[:, :, 0, 0] = 1.0  # a strong regularity, so training moves the model far
    _assert_normalised(model, images, data)


def test_quantized_exact_normalisation() -> None:
    torch.manual_seed(2)
    model = PixelCNNQuantizedDistribution([1, 2, 2], num_buckets=4, **SMALL)
    # Any point of a bucket has the bucket's mass; use the bucket's lower edge.
    images = _all_images((1, 2, 2), torch.tensor([0.0, 0.25, 0.5, 0.75]))
    data = torch.rand(32, 1, 2, 2) ** 3
    _assert_normalised(model, images, data)
    # The mass depends on the bucket only.
    assert torch.allclose(model.log_prob(images), model.log_prob(images + 0.2))


def test_logistic_mixture_exact_normalisation() -> None:
    torch.manual_seed(3)
    model = PixelCNNLogisticMixtureDistribution([2, 1, 2], num_mixtures=2, num_bins=4, **SMALL)
    images = _all_images((2, 1, 2), torch.tensor([0.0, 1 / 3, 2 / 3, 1.0]))
    data = torch.randint(0, 4, (32, 2, 1, 2)).float() ** 2 / 9
    _assert_normalised(model, images, data)


def test_conditional_model_is_normalised_per_condition() -> None:
    torch.manual_seed(4)
    model = PixelCNNBernoulliDistribution([1, 2, 2], condition_size=3, **SMALL).double()
    images = _all_images((1, 2, 2), torch.tensor([0.0, 1.0])).double()
    labels = torch.eye(3, dtype=torch.float64)
    data = (torch.rand(30, 1, 2, 2) < 0.5).double()
    data_labels = labels[torch.arange(30) % 3]
    data[torch.arange(30) % 3 == 0] = 1.0
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(20):
        optimizer.zero_grad()
        (-model.log_prob(data, data_labels).mean()).backward()
        optimizer.step()
    log_p = model.log_prob(images[:, None], labels)  # [16, 3] by broadcasting
    assert log_p.shape == (16, 3)
    torch.testing.assert_close(log_p.exp().sum(0), torch.ones(3, dtype=torch.float64))
    # The condition matters: label 0 learnt the all-ones image.
    assert log_p[-1, 0] > log_p[-1, 1] + 1.0


# ---------------------------------------------------------------------- causality


def _order(c: int, i: int, j: int, channels: int, width: int) -> int:
    return (i * width + j) * channels + c


@pytest.mark.parametrize("event_shape", [(1, 4, 5), (3, 4, 4)])
def test_network_is_causal_and_has_no_blind_spot(event_shape: tuple[int, int, int]) -> None:
    """Parameters of sub-pixel k depend on exactly the sub-pixels before k."""
    channels, height, width = event_shape
    model = PixelCNNQuantizedDistribution(
        event_shape, num_buckets=3, hidden_channels=6, num_layers=4, kernel_size=3
    ).double()
    _train(model, torch.rand(16, *event_shape), steps=3)  # masks must hold after training too
    # A batch of 16 inputs, so that the ReLUs of the head are not all off at a position.
    z = torch.randn(16, *event_shape, dtype=torch.float64, requires_grad=True)
    params = model.network(z)  # [2, C, P, H, W]
    for c, i, j in itertools.product(range(channels), range(height), range(width)):
        (grad,) = torch.autograd.grad(params[:, c, :, i, j].sum(), z, retain_graph=True)
        depends = (grad.abs().sum(0) > 0).flatten().tolist()
        k = _order(c, i, j, channels, width)
        for c2, i2, j2 in itertools.product(range(channels), range(height), range(width)):
            index = (c2 * height + i2) * width + j2
            later = _order(c2, i2, j2, channels, width) >= k
            assert depends[index] is not later, (c, i, j, c2, i2, j2)


def test_log_prob_terms_do_not_depend_on_later_subpixels() -> None:
    """d log p(x_k | x_<k) / d x_m == 0 exactly for m > k (Bernoulli, from log_prob)."""
    model = PixelCNNBernoulliDistribution([3, 3, 3], **SMALL).double()
    x = (torch.rand(2, 3, 3, 3) < 0.5).double().requires_grad_()
    terms = model._subpixel_log_probs(x)
    torch.testing.assert_close(terms.sum(dim=(-3, -2, -1)), model.log_prob(x))
    for c, i, j in itertools.product(range(3), range(3), range(3)):
        (grad,) = torch.autograd.grad(terms[:, c, i, j].sum(), x, retain_graph=True)
        k = _order(c, i, j, 3, 3)
        for c2, i2, j2 in itertools.product(range(3), range(3), range(3)):
            if _order(c2, i2, j2, 3, 3) > k:
                assert (grad[:, c2, i2, j2] == 0).all()


# ------------------------------------------------------------- channels jointly


@pytest.mark.slow
def test_channels_are_modelled_jointly() -> None:
    """Pixels iid fair coins, copied to all 3 channels: the entropy is 1 bit per pixel.

    A model whose channels were independent given the past could not go below 3 bits per
    pixel here (each channel alone is a fair coin); the joint model approaches 1.
    """
    torch.manual_seed(5)
    shape = (3, 3, 3)
    model = PixelCNNBernoulliDistribution(shape, hidden_channels=12, num_layers=2, kernel_size=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)

    def batch(n: int) -> torch.Tensor:
        pixels = (torch.rand(n, 1, 3, 3) < 0.5).float()
        return pixels.expand(n, *shape)

    for _ in range(200):
        optimizer.zero_grad()
        (-model.log_prob(batch(64)).mean()).backward()
        optimizer.step()
    with torch.no_grad():
        bits_per_pixel = -model.log_prob(batch(2000)).mean().item() / (9 * math.log(2))
    assert bits_per_pixel < 1.15


def test_state_dict_round_trip() -> None:
    model = PixelCNNBernoulliDistribution([1, 3, 3], condition_size=2, **SMALL)
    clone = PixelCNNBernoulliDistribution([1, 3, 3], condition_size=2, **SMALL)
    clone.load_state_dict(model.state_dict())
    x = (torch.rand(4, 1, 3, 3) < 0.5).float()
    condition = torch.randn(4, 2)
    torch.testing.assert_close(clone.log_prob(x, condition), model.log_prob(x, condition))


# ------------------------------------------------------------- trailing-1 trap


def test_stray_one_in_images_or_condition_is_refused_not_broadcast() -> None:
    model = PixelCNNBernoulliDistribution([1, 2, 2], condition_size=3, **SMALL)
    x = (torch.rand(4, 1, 2, 2) < 0.5).float()
    condition = torch.eye(3)[torch.tensor([0, 1, 2, 0])]
    with pytest.raises(
        ValueError,
        match=r"x has shape \[4, 1, 1, 2, 2\] but the condition has batch shape \[4\].*"
        r"broadcast to \[4, 4\].*x\.squeeze\(-4\) of shape \[4, 1, 2, 2\]",
    ):
        model.log_prob(x[:, None], condition)
    with pytest.raises(
        ValueError,
        match=r"condition has shape \[4, 1, 3\] but x has batch shape \[4\].*"
        r"broadcast to \[4, 4\].*condition\.squeeze\(-2\)",
    ):
        model.log_prob(x, condition[:, None])
    assert model.log_prob(x, condition).shape == (4,)
    # A grid of M != N images against N conditions still broadcasts, and so does the
    # outer product once it is asked for explicitly.
    assert model.log_prob(x[:3, None], condition).shape == (3, 4)
    assert model.log_prob(x[:, None].expand(4, 4, 1, 2, 2), condition).shape == (4, 4)

"""The variational layers: KL (analytic against Monte Carlo), Flipout, bad input, state_dict.

Statistical checks use fixed seeds; each states its tolerance in standard errors (a
4-standard-error band fails by chance with probability about 6e-5 per compared number).
"""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch import nn
from torch.distributions import Distribution, Independent, Laplace, Normal, StudentT

from pygen.layers import (
    Conv2dFlipout,
    Conv2dReparameterization,
    DenseFlipout,
    DenseLocalReparameterization,
    DenseReparameterization,
    DenseVariational,
    DistributionLambda,
    MeanFieldNormal,
    StandardNormalPrior,
    VariableLayer,
    VariationalObjective,
)


def _posterior(kernel_size: int, bias_size: int, dtype: torch.dtype) -> nn.Module:
    """TFP's tutorial posterior: a trainable mean-field normal over all the weights."""
    n = kernel_size + bias_size
    c = math.log(math.expm1(1.0))
    return nn.Sequential(
        VariableLayer(2 * n, initializer=lambda shape: 0.3 * torch.randn(shape), dtype=dtype),
        DistributionLambda(
            lambda t: Independent(Normal(t[:n], 1e-5 + nn.functional.softplus(c + t[n:])), 1)
        ),
    )


def _prior(kernel_size: int, bias_size: int, dtype: torch.dtype) -> nn.Module:
    """TFP's tutorial prior: a normal with a trainable mean and unit scale."""
    n = kernel_size + bias_size
    return nn.Sequential(
        VariableLayer(n, initializer=0.2, dtype=dtype),
        DistributionLambda(lambda t: Independent(Normal(t, 1.0), 1)),
    )


def _dense_variational(kl_use_exact: bool) -> DenseVariational:
    return DenseVariational(3, 2, _posterior, _prior, kl_use_exact=kl_use_exact)


def _wide_posterior(shape: torch.Size) -> MeanFieldNormal:
    return MeanFieldNormal(shape, loc_init_std=0.5, scale_init=0.4)


LAYERS = {
    "DenseVariational": _dense_variational,
    "DenseReparameterization": lambda exact: DenseReparameterization(
        3, 2, make_posterior=_wide_posterior, kl_use_exact=exact
    ),
    "DenseFlipout": lambda exact: DenseFlipout(
        3, 2, make_posterior=_wide_posterior, kl_use_exact=exact
    ),
    "DenseLocalReparameterization": lambda exact: DenseLocalReparameterization(
        3, 2, make_posterior=_wide_posterior, kl_use_exact=exact
    ),
    "Conv2dReparameterization": lambda exact: Conv2dReparameterization(
        2, 2, 2, make_posterior=_wide_posterior, kl_use_exact=exact
    ),
    "Conv2dFlipout": lambda exact: Conv2dFlipout(
        2, 2, 2, make_posterior=_wide_posterior, kl_use_exact=exact
    ),
}
INPUTS = {
    "DenseVariational": (4, 3),
    "DenseReparameterization": (4, 3),
    "DenseFlipout": (4, 3),
    "DenseLocalReparameterization": (4, 3),
    "Conv2dReparameterization": (4, 2, 5, 5),
    "Conv2dFlipout": (4, 2, 5, 5),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_analytic_kl_equals_monte_carlo_within_four_standard_errors(name: str) -> None:
    torch.manual_seed(0)
    exact = LAYERS[name](True)
    estimate = LAYERS[name](False)
    estimate.load_state_dict(exact.state_dict())
    assert exact.kl_is_exact
    assert not estimate.kl_is_exact
    analytic = exact.kl_divergence().item()
    draws = torch.stack([estimate.kl_divergence() for _ in range(4000)]).detach()
    standard_error = (draws.std() / math.sqrt(len(draws))).item()
    assert analytic > 0.5  # the posteriors are far from the priors: a real comparison
    assert abs(draws.mean().item() - analytic) < 4 * standard_error, (
        analytic,
        draws.mean().item(),
        standard_error,
    )
    # kl_divergence(num_samples) averages the draws: its spread falls as 1/sqrt(n)
    averaged = estimate.kl_divergence(num_samples=4000).item()
    assert abs(averaged - analytic) < 4 * standard_error


@pytest.mark.parametrize("exact", [True, False])
def test_kl_is_zero_when_the_posterior_is_the_prior(exact: bool) -> None:
    def standard_posterior(shape: torch.Size) -> MeanFieldNormal:
        q = MeanFieldNormal(shape, scale_init=1.0)
        with torch.no_grad():
            q.loc.zero_()
        return q

    layer = DenseFlipout(4, 3, make_posterior=standard_posterior, kl_use_exact=exact)
    assert layer.kl_is_exact is exact
    assert abs(layer.kl_divergence(num_samples=100).item()) < 1e-5

    def prior_as_posterior(kernel_size: int, bias_size: int, dtype: torch.dtype) -> nn.Module:
        n = kernel_size + bias_size
        return nn.Sequential(
            VariableLayer(2 * n, initializer=torch.cat([torch.full((n,), 0.2), torch.ones(n)])),
            DistributionLambda(lambda t: Independent(Normal(t[:n], t[n:]), 1)),
        )

    dense = DenseVariational(3, 2, prior_as_posterior, _prior, kl_use_exact=exact)
    assert abs(dense.kl_divergence(num_samples=100).item()) < 1e-5


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_kl_has_gradients_and_output_shapes(name: str) -> None:
    torch.manual_seed(0)
    layer = LAYERS[name](True)
    out = layer(torch.randn(INPUTS[name]))
    assert out.shape[0] == 4
    assert out.shape[1] == 2
    (out.sum() + layer.kl_divergence()).backward()
    grads = [p.grad for p in layer.parameters() if p.grad is not None]
    assert grads
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_state_dict_round_trips(name: str) -> None:
    torch.manual_seed(0)
    layer = LAYERS[name](True)
    other = LAYERS[name](True)
    other.load_state_dict(layer.state_dict())
    x = torch.randn(INPUTS[name])
    torch.manual_seed(5)
    first = layer(x)
    torch.manual_seed(5)
    second = other(x)
    assert torch.equal(first, second)
    assert torch.equal(layer.kl_divergence(), other.kl_divergence())


def test_local_reparameterization_has_the_expected_moments() -> None:
    torch.manual_seed(0)
    posterior = functools.partial(MeanFieldNormal, loc_init_std=0.3, scale_init=0.5)
    layer = DenseLocalReparameterization(3, 2, make_posterior=posterior)
    x = torch.randn(5, 3)
    with torch.no_grad():
        out = torch.stack([layer(x) for _ in range(4000)])
        loc, scale = layer.weight_posterior.loc, layer.weight_posterior.scale
        mean = x @ loc.T + layer.bias
        std = ((x**2) @ (scale**2).T).sqrt()
    se = std / math.sqrt(4000)
    assert ((out.mean(0) - mean).abs() < 4 * se).all()
    assert ((out.std(0) / std - 1).abs() < 0.1).all()


def test_each_call_draws_new_weights_but_follows_the_seed() -> None:
    layer = DenseReparameterization(3, 2)
    x = torch.randn(4, 3)
    torch.manual_seed(1)
    a = layer(x)
    b = layer(x)
    torch.manual_seed(1)
    assert not torch.equal(a, b)
    assert torch.equal(a, layer(x))


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "x", "match"),
    [
        (DenseReparameterization(3, 2), torch.randn(4, 5), r"\[\*batch, 3\].*got \[4, 5\]"),
        (DenseFlipout(3, 2), torch.randn(4, 5), r"\[\*batch, 3\].*got \[4, 5\]"),
        (DenseLocalReparameterization(3, 2), torch.randn(5), r"\[\*batch, 3\].*got \[5\]"),
        (
            DenseVariational(3, 2, _posterior, _prior),
            torch.randn(4, 1),
            r"\[\*batch, 3\].*got \[4, 1\]",
        ),
        (
            Conv2dFlipout(2, 3, 3),
            torch.randn(4, 1, 5, 5),
            r"\[batch, 2, H, W\].*got \[4, 1, 5, 5\]",
        ),
        (Conv2dReparameterization(2, 3, 3), torch.randn(2, 5, 5), r"got \[2, 5, 5\]"),
    ],
)
def test_wrong_input_features_name_the_shapes(
    layer: nn.Module, x: torch.Tensor, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        layer(x)


def test_integer_input_is_refused() -> None:
    with pytest.raises(TypeError, match=r"floating-point.*torch.int64"):
        DenseFlipout(3, 2)(torch.ones(2, 3, dtype=torch.long))


def test_posterior_factory_of_the_wrong_shape_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"shape \[2, 3\], got .* = \[3, 2\]"):
        DenseFlipout(3, 2, make_posterior=lambda shape: MeanFieldNormal([3, 2]))
    with pytest.raises(ValueError, match=r"over a tensor of shape \[8\].*= \[7\]"):
        DenseVariational(3, 2, lambda k, b, dtype: _posterior(k + b - 1, 0, dtype), _prior)
    with pytest.raises(ValueError, match=r"prior .* shape \[8\].*= \[9\]"):
        DenseVariational(3, 2, _posterior, lambda k, b, dtype: _prior(k, b + 1, dtype))


def test_factories_of_the_wrong_kind_are_refused() -> None:
    with pytest.raises(TypeError, match="make_posterior must be callable, got int"):
        DenseFlipout(3, 2, make_posterior=3)
    with pytest.raises(TypeError, match=r"must return a torch.distributions.Distribution"):
        DenseFlipout(3, 2, make_prior=lambda shape: lambda: torch.zeros(shape))
    with pytest.raises(ValueError, match="reparameterizable"):
        DenseFlipout(
            3,
            2,
            make_posterior=lambda shape: (
                lambda: Independent(torch.distributions.Poisson(torch.ones(shape)), 2)
            ),
        )
    with pytest.raises(TypeError, match=r"Normal posterior.*Laplace"):
        DenseLocalReparameterization(
            3, 2, make_posterior=lambda s: lambda: Independent(Laplace(torch.zeros(s), 1.0), 2)
        )


def test_constructor_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        DenseFlipout(0, 2)
    with pytest.raises(ValueError, match="kl_weight must be a finite number >= 0, got -1"):
        DenseFlipout(3, 2, kl_weight=-1)
    with pytest.raises(TypeError, match="kl_use_exact must be a bool"):
        DenseFlipout(3, 2, kl_use_exact=1)
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv2dFlipout(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="num_samples must be an int >= 1, got 0"):
        DenseFlipout(3, 2).kl_divergence(0)


def test_default_prior_follows_dtype_and_is_not_in_state_dict() -> None:
    layer = DenseFlipout(3, 2).double()
    assert layer(torch.randn(4, 3, dtype=torch.float64)).dtype == torch.float64
    assert layer.kl_divergence().dtype == torch.float64
    assert set(layer.state_dict()) == {
        "bias",
        "weight_posterior.loc",
        "weight_posterior.untransformed_scale",
    }
    assert isinstance(layer.weight_prior, StandardNormalPrior)


# -- Flipout: the moments of reparameterization, decorrelated examples -------------------

_DRAWS = 4000  # the moment checks' draws


def _flipout_pair(flipout: bool, conv: bool) -> nn.Module:
    posterior = functools.partial(MeanFieldNormal, loc_init_std=0.3, scale_init=0.5)
    torch.manual_seed(0)  # the same posterior for the Flipout and the plain layer
    if conv:
        cls = Conv2dFlipout if flipout else Conv2dReparameterization
        layer = cls(2, 3, 2, make_posterior=posterior)
    else:
        cls = DenseFlipout if flipout else DenseReparameterization
        layer = cls(3, 2, make_posterior=posterior)
    with torch.no_grad():
        layer.bias.normal_()
    return layer


def _analytic_moments(layer: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of each output under ``W ~ q``: linear in ``mu``, in ``sigma^2``."""
    loc, scale = layer.weight_posterior.loc, layer.weight_posterior.scale
    if x.dim() == 2:
        return nn.functional.linear(x, loc, layer.bias), nn.functional.linear(x**2, scale**2)
    conv = nn.functional.conv2d
    return conv(x, loc, layer.bias), conv(x**2, scale**2)


@pytest.mark.parametrize("conv", [False, True], ids=["dense", "conv2d"])
def test_flipout_has_the_posterior_moments_and_decorrelates_the_batch(conv: bool) -> None:
    # Over draws each output is Normal(x mu^T + b, x^2 (sigma^2)^T) for both layers
    # (Flipout multiplies each weight's perturbation by a random sign, which leaves a
    # symmetric draw's law alone). Checked against those exact moments: the mean
    # within 4 standard errors (sd / sqrt(n)), the variance within 4 standard errors
    # of a normal sample variance (relative sqrt(2 / (n - 1)) = 2.2% at n = 4000).
    # The two examples of the batch are nearly equal: the plain layer's shared weight
    # draw makes their outputs correlate (about 1); Flipout's independent signs make
    # the correlation 0, within 4 standard errors (1 / sqrt(n) = 0.016).
    torch.manual_seed(3)
    first = torch.randn(1, 2, 3, 3) if conv else torch.randn(1, 3)
    x = torch.cat([first, first + 0.1 * torch.randn_like(first)])
    for flipout in (False, True):
        layer = _flipout_pair(flipout, conv)
        torch.manual_seed(1)
        with torch.no_grad():
            draws = torch.stack([layer(x) for _ in range(_DRAWS)])
            mean, variance = _analytic_moments(layer, x)
        mean_error = (draws.mean(0) - mean).abs() / (variance / _DRAWS).sqrt()
        variance_error = (draws.var(0) / variance - 1).abs() / math.sqrt(2 / (_DRAWS - 1))
        assert mean_error.max() < 4, (flipout, mean_error.max())
        assert variance_error.max() < 4, (flipout, variance_error.max())
        centred = (draws - mean).flatten(2)
        correlation = (centred[:, 0] * centred[:, 1]).mean(0) / variance.flatten(1).prod(0).sqrt()
        if flipout:
            assert correlation.abs().max() < 4 / math.sqrt(_DRAWS), correlation
        else:
            assert correlation.min() > 0.8, correlation


@pytest.mark.parametrize("conv", [False, True], ids=["dense", "conv2d"])
def test_flipout_lowers_the_gradient_variance_on_a_batch(conv: bool) -> None:
    # The squared error of a batch of 64, its gradient with respect to the posterior's
    # means drawn over 300 seeds: Flipout's variance (summed over the weights) is a
    # fraction of the plain layer's. Measured (these seeds): dense 0.07, conv2d 0.05;
    # the scale parameters' gradients gain less (ratio about 0.85: their main term,
    # sigma * eps^2 * x^2, carries no sign and is shared by the batch).
    x = torch.randn(64, 2, 5, 5) if conv else torch.randn(64, 3)
    variances = {}
    for flipout in (False, True):
        layer = _flipout_pair(flipout, conv)
        with torch.no_grad():
            target = torch.randn_like(layer(x))
        grads = []
        for seed in range(300):
            torch.manual_seed(100 + seed)
            layer.zero_grad()
            ((layer(x) - target) ** 2).mean().backward()
            grads.append(layer.weight_posterior.loc.grad.flatten().clone())
        variances[flipout] = torch.stack(grads).var(0).sum().item()
    ratio = variances[True] / variances[False]
    assert ratio < 0.25, ratio


# -- the KL where torch registers none: Monte Carlo, unbiased ------------------------------


def _prior_of(make: type, **parameters: float) -> object:
    """A prior factory: ``make(**parameters)`` over every weight, as one Independent."""

    def factory(shape: torch.Size) -> object:
        return lambda: Independent(
            make(**{k: torch.full(shape, v) for k, v in parameters.items()}), len(shape)
        )

    return factory


def _quadrature_kl(layer: DenseReparameterization, prior: Distribution) -> float:
    """``sum_i int q_i log(q_i / p_i)`` by the trapezoid rule, weight by weight (float64)."""
    q = layer.weight_posterior
    loc, scale = q.loc.detach().double().flatten(), q.scale.detach().double().flatten()
    base = prior.base_dist
    grid = torch.linspace(-12, 12, 20001, dtype=torch.float64)[:, None] * scale + loc
    names = ("df", "loc", "scale") if isinstance(base, StudentT) else ("loc", "scale")
    p = type(base)(*(getattr(base, k).detach().double().flatten() for k in names))
    log_q = Normal(loc, scale).log_prob(grid)
    return torch.trapezoid(log_q.exp() * (log_q - p.log_prob(grid)), grid, dim=0).sum().item()


def test_student_t_prior_falls_back_to_an_unbiased_monte_carlo_kl() -> None:
    # torch registers no KL(Normal || StudentT): even with kl_use_exact=True the layer
    # uses the Monte Carlo estimate. Its mean over 4000 single draws agrees with the
    # quadrature reference within 4 standard errors, and so does one 4000-draw
    # estimate (kl_divergence(num_samples)); the objective passes its kl_samples on.
    torch.manual_seed(0)
    prior = _prior_of(StudentT, df=3.0, loc=0.0, scale=0.5)
    layer = DenseReparameterization(3, 2, make_posterior=_wide_posterior, make_prior=prior)
    assert layer.kl_use_exact
    assert not layer.kl_is_exact
    reference = _quadrature_kl(layer, layer.weight_prior())
    draws = torch.stack([layer.kl_divergence() for _ in range(4000)]).detach()
    standard_error = (draws.std() / math.sqrt(len(draws))).item()
    assert reference > 0.5
    assert abs(draws.mean().item() - reference) < 4 * standard_error, (reference, draws.mean())
    assert abs(layer.kl_divergence(4000).item() - reference) < 4 * standard_error
    kl, weighted = VariationalObjective(num_examples=10, kl_samples=4000).kl(layer)
    assert abs(kl.item() - reference) < 4 * standard_error
    assert torch.equal(kl, weighted)  # kl_weight 1


def test_laplace_prior_uses_torchs_registered_kl() -> None:
    # torch registers KL(Normal || Laplace): the layer uses it (exact: the same number
    # on every call) and it equals the quadrature reference; kl_use_exact=False
    # switches to the Monte Carlo estimate, whose mean agrees within 4 standard errors.
    torch.manual_seed(0)
    prior = _prior_of(Laplace, loc=0.0, scale=0.5)
    layer = DenseReparameterization(3, 2, make_posterior=_wide_posterior, make_prior=prior)
    assert layer.kl_is_exact
    reference = _quadrature_kl(layer, layer.weight_prior())
    assert layer.kl_divergence().item() == pytest.approx(reference, rel=1e-4)
    assert torch.equal(layer.kl_divergence(), layer.kl_divergence())
    estimate = DenseReparameterization(
        3, 2, make_posterior=_wide_posterior, make_prior=prior, kl_use_exact=False
    )
    estimate.load_state_dict(layer.state_dict())
    assert not estimate.kl_is_exact
    draws = torch.stack([estimate.kl_divergence() for _ in range(4000)]).detach()
    standard_error = (draws.std() / math.sqrt(len(draws))).item()
    assert abs(draws.mean().item() - reference) < 4 * standard_error


@pytest.mark.parametrize("num_samples", [1, 3])
def test_monte_carlo_kl_sums_each_side_over_its_own_batch(num_samples: int) -> None:
    # A prior that is a plain Normal of batch_shape [2, 3] (not Independent) beside the
    # default Independent posterior: torch has no KL for that pair, so the estimate is
    # Monte Carlo; it must sum the prior's 6 log densities before subtracting (it once
    # broadcast the posterior's total against each: 6 log q - sum log p, or an error).
    torch.manual_seed(0)
    layer = DenseReparameterization(
        3,
        2,
        make_posterior=_wide_posterior,
        make_prior=lambda s: lambda: Normal(torch.zeros(s), 1.0),
    )
    assert not layer.kl_is_exact
    q = layer.weight_posterior
    reference = torch.distributions.kl_divergence(Normal(q.loc, q.scale), Normal(0.0, 1.0)).sum()
    draws = torch.stack([layer.kl_divergence(num_samples) for _ in range(2000)]).detach()
    standard_error = draws.std() / math.sqrt(len(draws))
    assert abs(draws.mean() - reference) < 4 * standard_error, (draws.mean(), reference)

"""VAE: bounds against exact answers, gradients, KL estimators, errors, generation.

Exact answers come from two models whose marginal likelihood is known:

- probabilistic PCA (a linear-Gaussian VAE): ``z ~ N(0, I)``, ``x | z ~ N(W z + mu,
  sigma^2 I)``, so ``p(x) = N(mu, W W^T + sigma^2 I)`` and the posterior is Gaussian in
  closed form; for a Gaussian q the exact ELBO is ``log p(x) - KL(q || posterior)``;
- a tiny discrete model (3 binary latents, or one 4-way one-hot latent) whose
  ``log p(x)`` and ELBO are sums over every z.

The statistical checks compare a Monte Carlo mean with its exact value within 5
standard errors (estimated from the same samples; a two-sided false-failure rate of
about 6e-7 per comparison under the normal approximation), with fixed seeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from torch.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Gumbel,
    Independent,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    Poisson,
)

from pygen.distributions import MADE, VAE, ELBOObjective, ELBOTerms, IWAEObjective

# ----------------------------------------------------------------------------- parts


class GaussianLayer(nn.Module):
    """params [..., 2d] -> Independent(Normal(loc, softplus(raw))) (like IndependentNormal)."""

    def forward(self, params: Tensor) -> Independent:
        loc, raw = params.chunk(2, dim=-1)
        return Independent(Normal(loc, nn.functional.softplus(raw)), 1)


class BernoulliLayer(nn.Module):
    def __init__(self, event_shape: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.event_shape = event_shape

    def forward(self, logits: Tensor) -> Independent:
        if self.event_shape:
            logits = logits.reshape(*logits.shape[:-1], *self.event_shape)
        return Independent(Bernoulli(logits=logits), len(self.event_shape) or 1)


class OneHotLayer(nn.Module):
    def forward(self, logits: Tensor) -> OneHotCategorical:
        return OneHotCategorical(logits=logits)


class FixedScaleGaussian(nn.Module):
    """A decoder x | z ~ N(W z + mu, sigma^2 I) with a fixed sigma."""

    def __init__(self, weight: Tensor, bias: Tensor, sigma: float) -> None:
        super().__init__()
        self.linear = nn.Linear(weight.shape[1], weight.shape[0]).double()
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            self.linear.bias.copy_(bias)
        self.sigma = sigma

    def forward(self, z: Tensor) -> Independent:
        loc = self.linear(z)
        return Independent(Normal(loc, torch.full_like(loc, self.sigma)), 1)


class LinearGaussianEncoder(nn.Module):
    """q(z|x) = N(A x + b, diag(s^2)): fixed parameters, set by the test."""

    def __init__(self, a: Tensor, b: Tensor, scale: Tensor) -> None:
        super().__init__()
        self.a = nn.Parameter(a.clone())
        self.b = nn.Parameter(b.clone())
        self.log_scale = nn.Parameter(scale.log().clone())

    def forward(self, x: Tensor) -> Independent:
        loc = x @ self.a.T + self.b
        return Independent(Normal(loc, self.log_scale.exp().expand_as(loc)), 1)


class TrainablePrior(nn.Module):
    """A trainable diagonal Gaussian prior: forward() returns the distribution."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(size))
        self.raw_scale = nn.Parameter(torch.zeros(size))

    def forward(self) -> Independent:
        return Independent(Normal(self.loc, nn.functional.softplus(self.raw_scale) + 0.5), 1)


class TrainableBernoulliPrior(nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(size))

    def forward(self) -> Independent:
        return Independent(Bernoulli(logits=self.logits), 1)


def standard_normal(size: int, dtype: torch.dtype = torch.float32) -> Independent:
    return Independent(Normal(torch.zeros(size, dtype=dtype), torch.ones(size, dtype=dtype)), 1)


def small_vae(**kwargs: object) -> VAE:
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    return VAE(encoder, decoder, standard_normal(3), **kwargs)


def binary(n: int, size: int = 6) -> Tensor:
    return (torch.rand(n, size) > 0.5).float()


def mean_and_error(samples: Tensor) -> tuple[Tensor, Tensor]:
    """Mean over dim 0 and its standard error."""
    return samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])


# ----------------------------------------------------------------------------- pPCA


class PPCA:
    """Probabilistic PCA, latent 2, data 4, float64, with a deliberately imperfect q."""

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(1)
        self.weight = torch.randn(4, 2, generator=generator, dtype=torch.float64)
        self.bias = torch.randn(4, generator=generator, dtype=torch.float64)
        self.sigma = 0.7
        covariance = self.weight @ self.weight.T + self.sigma**2 * torch.eye(4, dtype=torch.float64)
        self.marginal = MultivariateNormal(self.bias, covariance)
        m = self.weight.T @ self.weight + self.sigma**2 * torch.eye(2, dtype=torch.float64)
        self.m_inverse = torch.linalg.inv(m)
        # The exact posterior mean is m^{-1} W^T (x - mu); q's map is perturbed, and its
        # scale is diagonal (the posterior's covariance sigma^2 m^{-1} is not), 1.1 times
        # the posterior's largest standard deviation, so that q is wider than the
        # posterior in every direction and the importance weights p(x, z) / q(z|x) stay
        # bounded (light-tailed IWAE estimates, whose standard errors can be trusted).
        exact_a = self.m_inverse @ self.weight.T
        self.a = exact_a + 0.15 * torch.randn(2, 4, generator=generator, dtype=torch.float64)
        self.b = -exact_a @ self.bias + 0.1
        widest = (self.sigma**2 * torch.linalg.eigvalsh(self.m_inverse).max()).sqrt()
        self.scale = torch.full((2,), 1.1 * widest.item(), dtype=torch.float64)
        self.x = self.marginal.sample((6,))

    def vae(self, **kwargs: object) -> VAE:
        return VAE(
            LinearGaussianEncoder(self.a, self.b, self.scale),
            FixedScaleGaussian(self.weight, self.bias, self.sigma),
            standard_normal(2, torch.float64),
            **kwargs,
        )

    def log_p(self) -> Tensor:
        return self.marginal.log_prob(self.x)

    def exact_elbo(self) -> Tensor:
        posterior = MultivariateNormal(
            (self.m_inverse @ self.weight.T @ (self.x - self.bias).T).T,
            self.sigma**2 * self.m_inverse,
        )
        q = MultivariateNormal(self.x @ self.a.T + self.b, torch.diag(self.scale**2))
        return self.log_p() - torch.distributions.kl_divergence(q, posterior)


@pytest.fixture(scope="module")
def ppca() -> PPCA:
    torch.manual_seed(0)
    return PPCA()


def repeated_elbo(vae: VAE, x: Tensor, repeats: int) -> Tensor:
    """``repeats`` independent one-sample ELBO estimates of each example: [repeats, B]."""
    with torch.no_grad():
        terms = vae.elbo(x.repeat(repeats, *([1] * (x.dim() - 1))))
    return terms.elbo.reshape(repeats, x.shape[0])


def repeated_iwae(vae: VAE, x: Tensor, k: int, repeats: int) -> Tensor:
    """``repeats`` independent IWAE-k estimates of each example: [repeats, B]."""
    with torch.no_grad():
        bound = vae.iwae(x.repeat(repeats, *([1] * (x.dim() - 1))), k)
    return bound.reshape(repeats, x.shape[0])


def test_ppca_elbo_matches_its_closed_form_and_lies_below_log_p(ppca: PPCA) -> None:
    vae = ppca.vae()
    mean, error = mean_and_error(repeated_elbo(vae, ppca.x, 20000))
    exact = ppca.exact_elbo()
    log_p = ppca.log_p()
    assert (exact < log_p - 0.05).all(), "the test's q is meant to be visibly imperfect"
    assert ((mean - exact).abs() < 5 * error).all(), (mean, exact, error)
    # ELBO <= log p(x) for every example, by more than the estimate's uncertainty.
    assert (mean + 5 * error < log_p).all(), (mean, error, log_p)


def check_iwae_rises_towards(
    vae: VAE, x: Tensor, log_p: Tensor, schedule: list[tuple[int, int]], tolerance: float
) -> None:
    """Mean IWAE-k (``repeats`` estimates per (k, repeats) of ``schedule``) rises to log p."""
    means = {}
    for k, repeats in schedule:
        means[k], error = mean_and_error(repeated_iwae(vae, x, k, repeats))
        # IWAE-k <= log p(x) in expectation: never above it beyond the noise.
        assert (means[k] <= log_p + 5 * error + 1e-6).all(), (k, means[k], log_p)
    gaps = [(log_p - mean).mean().item() for mean in means.values()]
    assert all(a > b for a, b in itertools.pairwise(gaps[:-1])), gaps  # the last ~ 0
    largest = schedule[-1][0]
    assert ((log_p - means[largest]).abs() < tolerance).all(), (log_p - means[largest], gaps)


def test_ppca_iwae_rises_towards_log_p(ppca: PPCA) -> None:
    # Tolerance: IWAE-5000 (mean of 64 estimates, standard error about 0.002 nats) within
    # 0.01 nats of log p(x) for every example; the ELBO's gap, KL(q || posterior), is
    # about 1 to 1.5 nats here.
    schedule = [(1, 2000), (10, 400), (100, 400), (5000, 64)]
    check_iwae_rises_towards(ppca.vae(), ppca.x, ppca.log_p(), schedule, 0.01)


def test_iwae_in_chunks_estimates_the_same_bound_as_one_call(ppca: PPCA) -> None:
    vae = ppca.vae()
    with torch.no_grad():
        whole = torch.stack([vae.iwae(ppca.x, 60, chunk_size=60) for _ in range(300)])
        chunked = torch.stack([vae.iwae(ppca.x, 60, chunk_size=7) for _ in range(300)])
    whole_mean, whole_error = mean_and_error(whole)
    chunked_mean, chunked_error = mean_and_error(chunked)
    difference_error = (whole_error**2 + chunked_error**2).sqrt()
    assert ((whole_mean - chunked_mean).abs() < 5 * difference_error).all()
    # A chunk-combining bug (e.g. averaging the chunks' bounds) would show as a spread
    # like that of IWAE-7, about twice IWAE-60's here.
    assert (chunked.std(0) < 1.5 * whole.std(0)).all()


def test_iwae_5000_runs_in_chunks_on_images() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, 2 * 4), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(4, 64), BernoulliLayer((1, 8, 8)))
    vae = VAE(encoder, decoder, standard_normal(4), chunk_size=500)
    x = (torch.rand(10, 1, 8, 8) > 0.5).float()
    with torch.no_grad():
        bound = vae.iwae(x, 5000)
        elbo = vae.elbo(x, num_samples=200).elbo
    assert bound.shape == (10,)
    assert torch.isfinite(bound).all()
    assert (bound >= elbo - 0.5).all()


# ----------------------------------------------------------------------------- discrete


class DiscreteModel:
    """A prior over z, p(x|z) Bernoulli over 5 bits, q(z|x) from a linear map of x."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        torch.manual_seed(2)
        if kind == "bernoulli":
            size = 3
            self.codes = torch.tensor(list(itertools.product([0.0, 1.0], repeat=size)))
            self.prior = TrainableBernoulliPrior(size)
            encoder_head: nn.Module = BernoulliLayer((size,))
        else:
            size = 4
            self.codes = torch.eye(size)
            self.prior = OneHotCategorical(logits=torch.tensor([0.3, -0.2, 0.5, 0.0]))
            encoder_head = OneHotLayer()
        with torch.no_grad():
            if isinstance(self.prior, nn.Module):
                self.prior.logits.copy_(torch.tensor([0.4, -0.3, 0.2]))
        self.encoder = nn.Sequential(nn.Linear(5, size), encoder_head)
        self.decoder = nn.Sequential(nn.Linear(size, 5), BernoulliLayer((5,)))
        with torch.no_grad():
            self.decoder[0].weight.mul_(4.0)
        self.x = torch.tensor(
            [[0, 0, 0, 0, 0], [1, 1, 0, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 0, 1]],
            dtype=torch.float32,
        )

    def vae(self, **kwargs: object) -> VAE:
        return VAE(self.encoder, self.decoder, self.prior, temperature=0.5, **kwargs)

    def prior_distribution(self) -> object:
        return self.prior() if isinstance(self.prior, nn.Module) else self.prior

    @torch.no_grad()
    def log_joint(self) -> Tensor:
        """log p(x, z) for every code: [codes, batch]."""
        n = self.codes.shape[0]
        prior = self.prior_distribution().log_prob(self.codes)  # [n]
        likelihood = self.decoder(self.codes).log_prob(self.x[:, None, :])  # [batch, n]
        assert likelihood.shape == (self.x.shape[0], n)
        return prior[:, None] + likelihood.T

    @torch.no_grad()
    def log_p(self) -> Tensor:
        return torch.logsumexp(self.log_joint(), dim=0)

    @torch.no_grad()
    def exact_elbo(self) -> Tensor:
        q = self.encoder(self.x)
        log_q = q.log_prob(self.codes[:, None, :])  # [codes, batch]
        return (log_q.exp() * (self.log_joint() - log_q)).sum(0)


@pytest.fixture(params=["bernoulli", "one_hot"])
def discrete(request: pytest.FixtureRequest) -> DiscreteModel:
    return DiscreteModel(request.param)


def test_discrete_elbo_matches_enumeration_and_lies_below_log_p(discrete: DiscreteModel) -> None:
    vae = discrete.vae().eval()
    estimates = repeated_elbo(vae, discrete.x, 20000)
    mean, error = mean_and_error(estimates)
    exact = discrete.exact_elbo()
    log_p = discrete.log_p()
    assert (exact < log_p - 0.01).all()
    assert ((mean - exact).abs() < 5 * error).all(), (mean, exact, error)
    assert (mean + 5 * error < log_p).all(), (mean, error, log_p)


def test_discrete_iwae_rises_towards_log_p(discrete: DiscreteModel) -> None:
    # Tolerance: IWAE-5000 (mean of 8 estimates) within 0.02 nats of log p(x) for every
    # example; the ELBO's gap is 0.08 to 1.4 nats here.
    schedule = [(1, 4000), (10, 400), (100, 100), (5000, 8)]
    check_iwae_rises_towards(discrete.vae().eval(), discrete.x, discrete.log_p(), schedule, 0.02)


def test_relaxed_in_training_exact_in_evaluation(discrete: DiscreteModel) -> None:
    vae = discrete.vae()
    assert vae.elbo(discrete.x).relaxed
    assert not vae.eval().elbo(discrete.x).relaxed
    assert vae.elbo(discrete.x, relaxed=True).relaxed
    # The KL of a relaxed posterior is the discrete one (closed form), identical in both.
    torch.testing.assert_close(
        vae.elbo(discrete.x, relaxed=True).kl, vae.elbo(discrete.x, relaxed=False).kl
    )


def test_relaxed_samples_round_to_exact_samples_of_q() -> None:
    """Thresholded RelaxedBernoulli samples have the Bernoulli's frequencies."""
    from pygen.distributions._latent import relax

    q = Independent(Bernoulli(logits=torch.tensor([[-1.0, 0.0, 2.0]])), 1)
    relaxed, harden = relax(q, 0.3)
    frequencies = harden(relaxed.rsample((40000,))).mean(0)
    probs = torch.sigmoid(torch.tensor([[-1.0, 0.0, 2.0]]))
    error = (probs * (1 - probs) / 40000).sqrt()
    assert ((frequencies - probs).abs() < 5 * error).all()


# ----------------------------------------------------------------------------- gradients


def assert_every_parameter_has_gradient(module: nn.Module) -> None:
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name


def test_gradients_reach_encoder_decoder_and_trainable_prior() -> None:
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(encoder, decoder, TrainablePrior(3))
    terms = vae.elbo(binary(16))
    assert terms.analytic_kl
    terms.objective.mean().backward()
    assert_every_parameter_has_gradient(vae)
    assert {name.split(".")[0] for name, _ in vae.named_parameters()} == {
        "encoder",
        "decoder",
        "prior",
    }


@pytest.mark.parametrize("kl", ["analytic", "monte_carlo"])
def test_gradients_reach_every_part_of_a_relaxed_discrete_vae(kl: str) -> None:
    model = DiscreteModel("bernoulli")
    vae = model.vae(kl=kl)
    terms = vae.elbo(model.x)
    assert terms.relaxed
    terms.objective.mean().backward()
    assert_every_parameter_has_gradient(vae)


def test_iwae_gradients_reach_every_part() -> None:
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(encoder, decoder, TrainablePrior(3))
    vae.iwae(binary(8), 20, chunk_size=6).mean().backward()
    assert_every_parameter_has_gradient(vae)


# ----------------------------------------------------------------------------- KL


def test_analytic_and_monte_carlo_kl_agree() -> None:
    torch.manual_seed(4)
    analytic_vae = small_vae(kl="analytic")
    monte_carlo_vae = small_vae(kl="monte_carlo")
    monte_carlo_vae.load_state_dict(analytic_vae.state_dict())
    x = binary(5)
    repeats = 20000
    with torch.no_grad():
        analytic = analytic_vae.elbo(x)
        estimates = monte_carlo_vae.elbo(x.repeat(repeats, 1)).kl.reshape(repeats, 5)
    assert analytic.analytic_kl
    assert not monte_carlo_vae.elbo(x).analytic_kl
    mean, error = mean_and_error(estimates)
    assert ((mean - analytic.kl).abs() < 5 * error).all(), (mean, analytic.kl, error)
    assert (error < 0.05 * analytic.kl.abs() + 1e-3).all()  # the comparison has power


def test_auto_kl_falls_back_to_monte_carlo_where_torch_has_no_closed_form() -> None:
    mixture = MixtureSameFamily(
        Categorical(logits=torch.zeros(2)),
        Independent(Normal(torch.tensor([[-1.0] * 3, [1.0] * 3]), torch.ones(2, 3)), 1),
    )
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    terms = VAE(encoder, decoder, mixture).elbo(binary(4))
    assert not terms.analytic_kl
    assert terms.kl.shape == (4,)
    with pytest.raises(ValueError, match=r"kl='analytic': torch has no closed-form KL .*"):
        VAE(encoder, decoder, mixture, kl="analytic").elbo(binary(4))


def test_beta_weights_the_kl_in_the_objective_only() -> None:
    torch.manual_seed(5)
    vae = small_vae(beta=4.0)
    terms = vae.elbo(binary(7))
    torch.testing.assert_close(terms.elbo, terms.reconstruction - terms.kl)
    torch.testing.assert_close(terms.objective, terms.reconstruction - 4.0 * terms.kl)


# ----------------------------------------------------------------------------- errors


def test_argument_validation() -> None:
    encoder = nn.Sequential(nn.Linear(6, 6), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    prior = standard_normal(3)
    with pytest.raises(TypeError, match=r"encoder: expected an nn.Module"):
        VAE(lambda x: x, decoder, prior)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"prior: expected a torch.distributions.Distribution"):
        VAE(encoder, decoder, "normal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"prior: expected batch_shape \(\).*Independent"):
        VAE(encoder, decoder, Normal(torch.zeros(3), torch.ones(3)))
    with pytest.raises(ValueError, match=r"beta: expected a float >= 0, found -1"):
        VAE(encoder, decoder, prior, beta=-1.0)
    with pytest.raises(ValueError, match=r"kl: expected one of \['auto', 'analytic'"):
        VAE(encoder, decoder, prior, kl="exact")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"temperature: expected a positive float, found 0"):
        VAE(encoder, decoder, prior, temperature=0.0)
    with pytest.raises(ValueError, match=r"chunk_size: expected an int >= 1, found 0"):
        VAE(encoder, decoder, prior, chunk_size=0)
    vae = VAE(encoder, decoder, prior)
    with pytest.raises(ValueError, match=r"k: expected an int >= 1, found 0"):
        vae.iwae(binary(2), 0)
    with pytest.raises(ValueError, match=r"num_samples: expected an int >= 1, found 0"):
        vae.elbo(binary(2), num_samples=0)


def test_decoder_event_shape_must_match_the_data() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(4, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 4), BernoulliLayer((4,)))
    vae = VAE(encoder, decoder, standard_normal(3))
    images = (torch.rand(5, 1, 2, 2) > 0.5).float()
    message = (
        r"decoder p\(x\|z\): expected event_shape \(1, 2, 2\), found event_shape \(4,\) "
        r".*event_shape=\[1, 2, 2\]"
    )
    with pytest.raises(ValueError, match=message):
        vae.elbo(images)
    with pytest.raises(ValueError, match=message):
        vae.iwae(images, 10)


def test_decoder_without_independent_is_reported() -> None:
    class PlainBernoulli(nn.Module):
        def forward(self, logits: Tensor) -> Bernoulli:
            return Bernoulli(logits=logits)

    vae = VAE(
        nn.Sequential(nn.Linear(6, 6), GaussianLayer()),
        nn.Sequential(nn.Linear(3, 6), PlainBernoulli()),
        standard_normal(3),
    )
    with pytest.raises(ValueError, match=r"decoder p\(x\|z\): expected event_shape \(6,\)"):
        vae.elbo(binary(4))


def test_encoder_must_be_reparameterisable_and_the_error_says_what_to_use() -> None:
    class PoissonLayer(nn.Module):
        def forward(self, params: Tensor) -> Independent:
            return Independent(Poisson(params.exp()), 1)

    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    poisson = VAE(nn.Sequential(nn.Linear(6, 3), PoissonLayer()), decoder, standard_normal(3))
    with pytest.raises(
        TypeError,
        match=r"encoder q\(z\|x\): Independent\(Poisson\) cannot be reparameterised "
        r"\(has_rsample=False\).*pygen.layers.IndependentNormal",
    ):
        poisson.elbo(binary(4))
    bernoulli_prior = Independent(Bernoulli(probs=torch.full((3,), 0.5)), 1)
    bernoulli = VAE(nn.Sequential(nn.Linear(6, 3), BernoulliLayer((3,))), decoder, bernoulli_prior)
    with pytest.raises(
        TypeError,
        match=r"Independent\(Bernoulli\) cannot be reparameterised.*temperature=.*"
        r"RelaxedBernoulli",
    ):
        bernoulli.elbo(binary(4))

    class CategoricalLayer(nn.Module):
        def forward(self, logits: Tensor) -> Categorical:
            return Categorical(logits=logits)

    categorical = VAE(
        nn.Sequential(nn.Linear(6, 3), CategoricalLayer()),
        decoder,
        Categorical(logits=torch.zeros(3)),
        temperature=0.5,
    )
    with pytest.raises(TypeError, match=r"Categorical cannot be reparam.*OneHotCategorical"):
        categorical.elbo(binary(4))


def test_encoder_and_prior_shapes_are_checked() -> None:
    class PlainGaussian(nn.Module):
        def forward(self, params: Tensor) -> Normal:
            loc, raw = params.chunk(2, dim=-1)
            return Normal(loc, nn.functional.softplus(raw))

    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(nn.Sequential(nn.Linear(6, 6), PlainGaussian()), decoder, standard_normal(3))
    with pytest.raises(
        ValueError,
        match=r"encoder q\(z\|x\): expected batch_shape \(4,\).*found batch_shape \(4, 3\).*"
        r"Independent",
    ):
        vae.elbo(binary(4))
    vae = VAE(nn.Sequential(nn.Linear(6, 6), GaussianLayer()), decoder, standard_normal(2))
    with pytest.raises(ValueError, match=r"prior p\(z\): expected event_shape \(3,\).*\(2,\)"):
        vae.elbo(binary(4))
    with pytest.raises(TypeError, match=r"x: expected a tensor of shape \[batch, \*event_shape\]"):
        vae.elbo(torch.tensor(1.0))


# ----------------------------------------------------------------------------- generation


def test_sample_and_reconstruct_shapes() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 16), BernoulliLayer((1, 4, 4)))
    vae = VAE(encoder, decoder, standard_normal(3))
    x = (torch.rand(5, 1, 4, 4) > 0.5).float()
    samples = vae.sample((2, 3))
    assert samples.shape == (2, 3, 1, 4, 4)
    assert set(samples.unique().tolist()) <= {0.0, 1.0}
    means = vae.sample((6,), mean=True)
    assert ((means > 0) & (means < 1)).all()
    reconstruction = vae.reconstruct(x)
    assert reconstruction.shape == x.shape
    assert not reconstruction.requires_grad
    assert set(vae.reconstruct(x, mean=False).unique().tolist()) <= {0.0, 1.0}


def test_conditional_distribution_decoder_and_distribution_prior() -> None:
    """A MADE conditioned on z as the decoder, and a MADE as the (trainable) prior."""
    encoder = nn.Sequential(nn.Linear(6, 3), BernoulliLayer((3,)))
    decoder = MADE([6], hidden_sizes=[16], condition_size=3)
    prior = MADE([3], hidden_sizes=[8])
    vae = VAE(encoder, decoder, prior, temperature=0.5)
    x = binary(4)
    terms = vae.elbo(x)
    assert terms.relaxed
    assert not terms.analytic_kl  # a MADE prior has no closed-form KL
    terms.objective.mean().backward()
    assert_every_parameter_has_gradient(vae)
    vae.eval()
    assert vae.sample((5,)).shape == (5, 6)
    assert vae.reconstruct(x).shape == (4, 6)
    assert vae.iwae(x, 50).shape == (4,)
    wrong = VAE(encoder, MADE([5], hidden_sizes=[8], condition_size=3), prior, temperature=0.5)
    with pytest.raises(ValueError, match=r"decoder p\(x\|z\): expected event_shape \(6,\)"):
        wrong.elbo(x)


# ----------------------------------------------------------------------------- objectives


def test_elbo_objective_names_its_metrics() -> None:
    vae = small_vae(beta=2.0)
    x = binary(5)
    objective, metrics = ELBOObjective()(vae, (x,))
    assert sorted(metrics) == ["elbo", "kl", "reconstruction"]
    torch.testing.assert_close(objective, metrics["reconstruction"] - 2.0 * metrics["kl"])
    assert all(value.shape == (5,) for value in metrics.values())
    assert "log_prob" not in metrics
    objective, metrics = ELBOObjective(num_samples=3)(vae, (x,))
    assert objective.shape == (5,)

    # A relaxed discrete VAE maximises the relaxed surrogate but reports the ELBO of
    # exact samples, under the same names in training and in evaluation mode.
    model = DiscreteModel("one_hot")
    relaxed_vae = model.vae()
    torch.manual_seed(6)
    surrogate, metrics = ELBOObjective()(relaxed_vae, (model.x,))
    assert sorted(metrics) == ["elbo", "kl", "reconstruction"]
    assert surrogate.requires_grad
    assert not any(value.requires_grad for value in metrics.values())
    one_hot = metrics["reconstruction"]  # computed at exact one-hot codes: 4 values only
    codes = torch.eye(4)
    possible = model.decoder(codes).log_prob(model.x[:, None, :])  # [batch, codes]
    assert all((possible[i] - one_hot[i]).abs().min() < 1e-5 for i in range(4))
    _, metrics = ELBOObjective()(relaxed_vae.eval(), (model.x,))
    assert sorted(metrics) == ["elbo", "kl", "reconstruction"]
    with pytest.raises(ValueError, match=r"num_samples: expected an int >= 1, found 0"):
        ELBOObjective(num_samples=0)


def test_iwae_objective_names_its_metrics() -> None:
    model = DiscreteModel("bernoulli")
    vae = model.vae()  # training mode: the IWAE objective still uses exact samples
    value, metrics = IWAEObjective(k=64, chunk_size=10)(vae, (model.x,))
    assert sorted(metrics) == ["elbo", "iwae_64", "kl", "reconstruction"]
    assert value is metrics["iwae_64"]
    assert IWAEObjective(k=5000).name == "iwae_5000"
    _, metrics = IWAEObjective(k=8, with_elbo=False)(vae, (model.x,))
    assert sorted(metrics) == ["iwae_8"]
    with pytest.raises(ValueError, match=r"k: expected an int >= 1, found 0"):
        IWAEObjective(k=0)
    with pytest.raises(TypeError, match=r"with_elbo: expected a bool"):
        IWAEObjective(with_elbo=1)  # type: ignore[arg-type]


def test_forward_returns_the_elbo_terms() -> None:
    vae = small_vae()
    assert isinstance(vae(binary(3)), ELBOTerms)
    assert not hasattr(vae, "log_prob"), "a VAE has no exact log-likelihood"


# ----------------------------------------------------------------------------- device and dtype


def twin_vaes(prior: Callable[[torch.dtype], Distribution]) -> tuple[VAE, VAE]:
    """The same VAE twice: in float32 (to be converted) and built in float64 from the start."""
    torch.manual_seed(3)
    single = VAE(
        nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer()),
        nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,))),
        prior(torch.float32),
    )
    torch.manual_seed(3)
    double = VAE(
        nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer()).double(),
        nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,))).double(),
        prior(torch.float64),
    )
    double.load_state_dict(single.state_dict())  # the same weights (float32 values)
    return single, double


def prior_tensors(vae: VAE) -> list[Tensor]:
    base = vae.prior.base_dist
    return [value for value in vars(base).values() if isinstance(value, Tensor)]


def test_double_converts_a_fixed_prior_and_the_bounds_equal_a_vae_built_in_float64() -> None:
    single, double = twin_vaes(lambda dtype: standard_normal(3, dtype))
    original = single.prior
    assert single.double() is single
    assert all(t.dtype == torch.float64 for t in prior_tensors(single))
    assert single.prior.event_shape == (3,)
    assert single.prior.batch_shape == ()
    assert type(single.prior) is Independent
    assert type(single.prior.base_dist) is Normal
    assert original.base_dist.loc.dtype == torch.float32, "the prior passed in is left as it was"
    x = binary(5).double()
    for method in ("elbo", "iwae"):
        torch.manual_seed(4)
        converted = single.elbo(x).elbo if method == "elbo" else single.iwae(x, k=20)
        torch.manual_seed(4)
        built = double.elbo(x).elbo if method == "elbo" else double.iwae(x, k=20)
        assert converted.dtype == torch.float64
        torch.testing.assert_close(converted, built, rtol=0, atol=0)
    torch.manual_seed(4)
    kl_converted = single.elbo(x).kl
    torch.manual_seed(4)
    torch.testing.assert_close(kl_converted, double.elbo(x).kl, rtol=0, atol=0)
    assert single.sample((4,)).dtype == torch.float64
    single.float()
    assert all(t.dtype == torch.float32 for t in prior_tensors(single))
    assert single.elbo(x.float()).elbo.dtype == torch.float32


def test_a_discrete_prior_with_a_cached_parametrisation_follows_double() -> None:
    def bernoulli(dtype: torch.dtype) -> Independent:
        prior = Independent(Bernoulli(probs=torch.tensor([0.2, 0.5, 0.7], dtype=dtype)), 1)
        prior.base_dist.logits  # noqa: B018 (torch caches logits in the instance on first read)
        return prior

    torch.manual_seed(3)
    encoder = nn.Sequential(nn.Linear(6, 3), BernoulliLayer((3,)))
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(encoder, decoder, bernoulli(torch.float32), temperature=0.5, kl="monte_carlo")
    vae.double()
    base = vae.prior.base_dist
    assert base.probs.dtype == base.logits.dtype == torch.float64
    x = binary(4).double()
    terms = vae.eval().elbo(x)
    assert terms.elbo.dtype == torch.float64
    reference = Independent(Bernoulli(probs=torch.tensor([0.2, 0.5, 0.7], dtype=torch.float64)), 1)
    z = vae.posterior(x).sample()
    torch.testing.assert_close(vae.prior.log_prob(z), reference.log_prob(z))


@pytest.mark.parametrize(
    "convert",
    [
        lambda vae: vae.to(torch.float16),
        lambda vae: vae.half(),
        lambda vae: vae.to(dtype=torch.bfloat16),
        lambda vae: vae.to("cpu", torch.float64),
    ],
    ids=["to(float16)", "half()", "to(dtype=bfloat16)", "to(cpu, float64)"],
)
def test_to_dtype_converts_the_fixed_prior_like_the_parameters(
    convert: Callable[[VAE], VAE],
) -> None:
    vae = small_vae()
    convert(vae)
    dtype = vae.encoder[0].weight.dtype
    assert dtype != torch.float32
    assert all(t.dtype == dtype for t in prior_tensors(vae))
    x = binary(4).to(dtype)
    assert vae.elbo(x).elbo.dtype == dtype
    assert vae.iwae(x, k=4).dtype == dtype


def test_a_mixture_prior_follows_double() -> None:
    components = Independent(Normal(torch.randn(4, 3), torch.rand(4, 3) + 0.5), 1)
    prior = MixtureSameFamily(Categorical(logits=torch.randn(4)), components)
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(encoder, decoder, prior).double()
    assert vae.prior.mixture_distribution.logits.dtype == torch.float64
    assert vae.prior.component_distribution.base_dist.loc.dtype == torch.float64
    assert vae.prior.event_shape == (3,)
    assert vae.prior.batch_shape == ()
    terms = vae.elbo(binary(3).double())
    assert not terms.analytic_kl
    assert terms.elbo.dtype == torch.float64


def test_a_fixed_prior_is_not_in_the_state_dict_and_a_module_prior_is() -> None:
    vae = small_vae()
    assert not any(key.startswith("prior") for key in vae.state_dict())
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    trainable = VAE(encoder, decoder, TrainablePrior(3))
    assert any(key.startswith("prior.") for key in trainable.state_dict())
    trainable.double()
    assert trainable.prior_distribution().base_dist.loc.dtype == torch.float64


def test_a_prior_that_cannot_be_converted_is_refused_and_the_vae_is_left_as_it_was() -> None:
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    gumbel = Independent(Gumbel(torch.zeros(3), torch.ones(3)), 1)
    vae = VAE(encoder, decoder, gumbel, kl="monte_carlo")
    vae.to("cpu")  # a move that changes no dtype is fine
    with pytest.raises(
        TypeError,
        match=r"prior: the fixed Independent\(Gumbel\) prior cannot be converted from "
        r"torch\.float32 to torch\.float16: .*pass the prior as an nn\.Module instead",
    ):
        vae.half()
    assert vae.encoder[0].weight.dtype == torch.float32
    assert vae.prior.base_dist.loc.dtype == torch.float32
    trainable = Independent(Normal(torch.zeros(3, requires_grad=True), torch.ones(3)), 1)
    with pytest.raises(ValueError, match=r"prior\.base_dist\.loc requires grad"):
        VAE(encoder, decoder, trainable).double()


def test_to_empty_moves_the_fixed_prior_and_keeps_its_values() -> None:
    vae = small_vae()
    vae.to_empty(device="meta")
    assert vae.prior.base_dist.loc.is_meta
    assert vae.prior.base_dist.scale.is_meta
    vae = small_vae()
    # In deterministic mode torch fills the memory to_empty leaves uninitialised with NaN.
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        vae.to_empty(device="cpu")
    finally:
        torch.use_deterministic_algorithms(deterministic)
    assert vae.encoder[0].weight.isnan().all(), "the parameters are emptied, to be refilled"
    torch.testing.assert_close(vae.prior.base_dist.loc, torch.zeros(3), rtol=0, atol=0)
    torch.testing.assert_close(vae.prior.base_dist.scale, torch.ones(3), rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_moves_the_fixed_prior_and_cpu_brings_it_back() -> None:
    single, double = twin_vaes(lambda dtype: standard_normal(3, dtype))
    single.cuda()
    assert all(t.is_cuda for t in prior_tensors(single))
    x = binary(5)
    terms = single.elbo(x.cuda())
    assert terms.elbo.is_cuda
    assert terms.kl.is_cuda
    assert single.iwae(x.cuda(), k=10).is_cuda
    assert single.sample((2,)).is_cuda
    single.to("cpu", torch.float64)
    assert all(t.device.type == "cpu" and t.dtype == torch.float64 for t in prior_tensors(single))
    torch.manual_seed(4)
    converted = single.iwae(x.double(), k=10)
    torch.manual_seed(4)
    torch.testing.assert_close(converted, double.iwae(x.double(), k=10), rtol=0, atol=0)


@pytest.mark.parametrize("call", ["elbo", "iwae", "reconstruct"])
def test_x_checked_against_decoder_event_shape_and_emptiness(call: str) -> None:
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    vae = VAE(encoder, MADE([6], hidden_sizes=[8], condition_size=3), standard_normal(3))
    run = getattr(vae, call)
    extra = {"k": 2} if call == "iwae" else {}
    with pytest.raises(
        ValueError,
        match=r"expected event_shape \(5,\), found event_shape \(6,\); x \(shape \(2, 5\)\)",
    ):
        run(torch.zeros(2, 5), **extra)
    with pytest.raises(ValueError, match=r"x: expected a batch of at least one example"):
        run(torch.zeros(0, 6), **extra)


def test_iwae_gradients_recomputed_per_chunk_equal_those_kept_in_memory() -> None:
    # With gradients on and k > chunk_size, iwae recomputes each chunk in the backward
    # pass; the gradients must be those of the plain loop over the same chunks and seed.
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(encoder, decoder, TrainablePrior(3))
    x = binary(5)
    torch.manual_seed(1)
    vae.iwae(x, 23, chunk_size=6).sum().backward()
    recomputed = [p.grad.clone() for p in vae.parameters()]
    vae.zero_grad()
    torch.manual_seed(1)
    q = vae.posterior(x)
    prior = vae.prior_distribution()
    parts = []
    for start in range(0, 23, 6):
        z = q.rsample((min(6, 23 - start),))
        log_w = (
            vae.decoder(z.reshape(-1, 3)).log_prob(x.repeat(z.shape[0], 1)).reshape(z.shape[0], 5)
        )
        parts.append(torch.logsumexp(log_w + prior.log_prob(z) - q.log_prob(z), 0))
    (torch.logsumexp(torch.stack(parts), 0) - math.log(23)).sum().backward()
    for found, expected in zip(recomputed, (p.grad for p in vae.parameters()), strict=True):
        torch.testing.assert_close(found, expected, rtol=1e-5, atol=1e-6)


_IWAE_MEMORY_SCRIPT = r"""
import resource, sys, torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal
from pygen.distributions import VAE
torch.set_num_threads(1)
class Gaussian(nn.Module):
    def forward(self, p):
        loc, raw = p.chunk(2, -1)
        return Independent(Normal(loc, nn.functional.softplus(raw)), 1)
class Bits(nn.Module):
    def forward(self, p):
        return Independent(Bernoulli(logits=p), 1)
torch.manual_seed(0)
vae = VAE(
    nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 16), Gaussian()),
    nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 256), Bits()),
    Independent(Normal(torch.zeros(8), torch.ones(8)), 1),
    chunk_size=100,
)
x = (torch.rand(4, 256) < 0.5).float()
vae.iwae(x, 200).mean().backward()  # warm-up: one chunk's memory and the allocator
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
vae.iwae(x, int(sys.argv[1])).mean().backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def test_iwae_memory_with_gradients_does_not_grow_with_k() -> None:
    # Peak RSS of a real process. A fixed mmap threshold makes freed blocks go back to
    # the OS, so the peak follows the live tensors (glibc's adaptive threshold keeps
    # freed chunks and would hide or fake growth). Kept in memory, k = 4000 would hold
    # 40 chunks of activations (~60 MiB here); recomputed, one.
    import os
    import subprocess
    import sys

    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    grown = float(
        subprocess.run(
            [sys.executable, "-c", _IWAE_MEMORY_SCRIPT, "4000"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert grown < 15, f"peak RSS grew by {grown:.1f} MiB at k=4000, chunk_size=100"


@pytest.mark.parametrize("method", ["elbo", "iwae"])
def test_prior_whose_support_misses_the_encoders_samples_is_named(method: str) -> None:
    from torch.distributions import Gamma

    encoder = nn.Sequential(nn.Linear(6, 2 * 3), GaussianLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    prior = Independent(Gamma(torch.ones(3), torch.ones(3)), 1)
    vae = VAE(encoder, decoder, prior)
    torch.manual_seed(0)
    with pytest.raises(
        ValueError,
        match=r"prior p\(z\): expected the encoder's samples z ~ q\(z\|x\) in the prior's "
        r"support .*GreaterThanEq.* q\(z\|x\) is Independent\(Normal\) .* p\(z\) is "
        r"Independent\(Gamma\)",
    ):
        vae.elbo(binary(8)) if method == "elbo" else vae.iwae(binary(8), 10)


def test_prior_support_check_accepts_an_encoder_inside_the_support() -> None:
    from torch.distributions import Gamma, LogNormal

    class PositiveLayer(nn.Module):
        def forward(self, params: Tensor) -> Independent:
            loc, raw = params.chunk(2, dim=-1)
            return Independent(LogNormal(loc, nn.functional.softplus(raw)), 1)

    encoder = nn.Sequential(nn.Linear(6, 2 * 3), PositiveLayer())
    decoder = nn.Sequential(nn.Linear(3, 6), BernoulliLayer((6,)))
    vae = VAE(encoder, decoder, Independent(Gamma(torch.ones(3), torch.ones(3)), 1))
    assert torch.isfinite(vae.iwae(binary(4), 10)).all()
    assert torch.isfinite(vae.elbo(binary(4)).elbo).all()

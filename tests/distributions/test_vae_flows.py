"""The VAE takes an IAF posterior and a MAF prior without changes to vae.py."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pygen.distributions import IAF, MAF, VAE


class BernoulliDecoder(nn.Module):
    def __init__(self, latent: int, pixels: int) -> None:
        super().__init__()
        self.net = nn.Linear(latent, pixels)

    def forward(self, z: torch.Tensor) -> torch.distributions.Distribution:
        return torch.distributions.Independent(torch.distributions.Bernoulli(logits=self.net(z)), 1)


@pytest.mark.slow  # about 20 s on a shared 2-core machine
def test_vae_with_an_iaf_posterior_and_a_maf_prior_trains() -> None:
    torch.manual_seed(0)
    latent, pixels = 2, 12
    # q(z|x): an IAF conditioned on an embedding of x. Flow.forward(condition) returns a
    # TransformedDistribution with batch_shape [batch] and rsample: the encoder contract.
    encoder = nn.Sequential(
        nn.Linear(pixels, 16), nn.Tanh(), IAF(latent, 2, [16], condition_size=16)
    )
    prior = MAF(latent, 2, [16])  # a trainable module prior with log_prob and sample
    vae = VAE(encoder, BernoulliDecoder(latent, pixels), prior)
    x = (torch.rand(64, pixels) < torch.linspace(0.1, 0.9, pixels)).float()
    terms = vae.elbo(x)
    assert terms.elbo.shape == (64,)
    assert torch.isfinite(terms.elbo).all()
    # the KL term is the Monte Carlo one (no closed form for a flow): log q(z|x) - log p(z)
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-2)
    before = vae.elbo(x, num_samples=8).elbo.mean().item()
    for _ in range(150):
        optimizer.zero_grad()
        (-vae.elbo(x).objective.mean()).backward()
        optimizer.step()
    after = vae.elbo(x, num_samples=8).elbo.mean().item()
    assert after > before + 1.0
    assert all(p.grad is not None for p in prior.parameters())  # the prior trains too
    assert torch.isfinite(vae.iwae(x[:4], 16)).all()
    assert vae.sample((3,)).shape == (3, pixels)

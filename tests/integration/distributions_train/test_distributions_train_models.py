"""pygen-distributions models trained by pygen-train's DistributionTrainer.

The trainer knows nothing of pygen.distributions (it must not import it); these tests
check that the two meet through ``log_prob`` alone and that the trainer's metrics mean
what they say for pygen's models.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.distributions import PixelCNNBernoulliDistribution, QuantizedDistribution
from pygen.train import DistributionTrainer


class LearnedQuantized(nn.Module):
    """A single QuantizedDistribution over [0, 1] with learned bucket logits."""

    def __init__(self, num_buckets: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(num_buckets))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return QuantizedDistribution(self.logits).log_prob(x)


def test_quantized_distribution_learns_the_bucket_frequencies() -> None:
    true_probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    buckets = torch.multinomial(true_probs, 4000, replacement=True)
    data = (buckets + torch.rand(4000)) / 4
    model = LearnedQuantized(4)
    DistributionTrainer(
        model,
        TensorDataset(data),
        batch_size=200,
        max_epoch=15,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.05),
        progress=False,
    ).train()
    empirical = torch.bincount(buckets, minlength=4).float() / 4000
    learned = torch.softmax(model.logits.detach(), -1)
    torch.testing.assert_close(learned, empirical, atol=0.02, rtol=0)


def test_pixelcnn_trains_to_the_entropy_of_its_data() -> None:
    """Two equally likely 4x4 binary images: the best NLL is ln 2 nats per image."""
    checkerboard = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2
    images = torch.stack([checkerboard, 1 - checkerboard]).float().unsqueeze(1)
    data = images[torch.randint(0, 2, (512,))]
    model = PixelCNNBernoulliDistribution([1, 4, 4], hidden_channels=8, num_layers=2)
    trainer = DistributionTrainer(
        model,
        TensorDataset(data),
        batch_size=64,
        max_epoch=12,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.02),
        progress=False,
    )
    trainer.train()

    first, last = trainer.history.epochs[0], trainer.history.epochs[-1]
    assert last["log_prob"] > first["log_prob"]
    # Bits per dimension is the negative log-likelihood in bits over the 16 pixels.
    assert last["bits_per_dim"] == pytest.approx(-last["log_prob"] / (16 * math.log(2)))
    nll = -model.log_prob(images).mean().item()
    assert nll < math.log(2) + 0.1, f"NLL {nll:.3f} nats; the data's entropy is ln 2 = 0.693"
    samples = model.sample([64])
    matches = (samples == images[0]).flatten(1).all(1) | (samples == images[1]).flatten(1).all(1)
    assert matches.float().mean() > 0.9


def test_pixelcnn_training_resumes_exactly_from_its_checkpoint(tmp_path) -> None:
    data = TensorDataset((torch.rand(128, 1, 3, 3) > 0.5).float())

    def run(max_epoch: int, checkpoint: str | None) -> nn.Module:
        torch.manual_seed(1)
        model = PixelCNNBernoulliDistribution([1, 3, 3], hidden_channels=4, num_layers=2)
        DistributionTrainer(
            model, data, batch_size=32, max_epoch=max_epoch, seed=7, progress=False,
            checkpoint_path=checkpoint,
        ).train()  # fmt: skip
        return model

    straight = run(4, None)
    run(2, str(tmp_path / "run.ckpt"))  # stops after two epochs, as an interruption would
    resumed = run(4, str(tmp_path / "run.ckpt"))
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name

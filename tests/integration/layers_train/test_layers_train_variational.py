"""Variational layers under LayerTrainer: the ELBO objective, checkpoint and resume."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Independent, Normal
from torch.utils.data import TensorDataset

from pygen.layers import (
    DenseFlipout,
    DenseReparameterization,
    DistributionLambda,
    VariationalObjective,
)
from pygen.train import LayerTrainer


def _data() -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(96, 1, generator=generator) * 4 - 2
    y = 0.5 * x + 1 + 0.8 * torch.randn(96, 1, generator=generator)
    return TensorDataset(x, y)


def _run(checkpoint: str | None, **options: object) -> tuple[nn.Module, LayerTrainer]:
    torch.manual_seed(1)
    model = nn.Sequential(
        DenseFlipout(1, 8),
        nn.Tanh(),
        DenseReparameterization(8, 2),
        DistributionLambda(
            lambda t: Independent(Normal(t[..., :1], nn.functional.softplus(t[..., 1:])), 1)
        ),
    )
    trainer = LayerTrainer(
        model, _data(), batch_size=16, max_epoch=3, seed=7, progress=False,
        objective=VariationalObjective(num_examples=96), checkpoint_path=checkpoint,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.02), **options,
    )  # fmt: skip
    trainer.train()
    return model, trainer


def test_variational_training_resumes_bit_exact_from_a_mid_epoch_checkpoint(tmp_path) -> None:
    # Every call draws new weights (and Flipout signs), so an exact resume needs the
    # random state as well as the posterior's parameters: a run stopped at step 9 (of
    # 6 per epoch) and resumed ends with the same parameters as an uninterrupted run.
    path = str(tmp_path / "run.ckpt")
    straight, reference = _run(None)
    _, first = _run(path, max_steps=9)
    assert first.stop_reason == "max_steps"
    resumed, second = _run(path)
    assert second.stop_reason == "max_epoch"
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert second.history.epochs == reference.history.epochs
    last = reference.history.epochs[-1]
    assert {"elbo", "kl", "expected_log_likelihood"} <= set(last)
    assert "log_prob" not in last  # the ELBO is a bound, not a log-likelihood
    assert last["elbo"] > reference.history.epochs[0]["elbo"]

"""A resumed run that has already finished says so in one line (pygen.train._finished)."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from pygen.train import DistributionTrainer


class _Gaussian(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mean = torch.nn.Parameter(torch.zeros(1))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.mean, 1.0).log_prob(value).sum(-1)


def _trainer(path, max_epoch: int) -> DistributionTrainer:
    data = TensorDataset(torch.randn(8, 1))
    return DistributionTrainer(
        _Gaussian(), data, batch_size=4, max_epoch=max_epoch, checkpoint_path=path,
        progress=False,
    )  # fmt: skip


def test_train_finished_resumed_run_prints_one_line(tmp_path, capsys):
    path = tmp_path / "trainer.ckpt"
    _trainer(path, 2).train()
    assert capsys.readouterr().err == ""  # a run that trains says nothing of the kind
    again = _trainer(path, 2)
    again.train()
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err == (
        f"pygen.train: DistributionTrainer: the run resumed from {path} has already finished "
        "(max_epoch reached after 2 epochs, 4 steps); nothing to train: raise max_epoch or "
        "max_steps to train on, or remove the checkpoint to start over\n"
    )
    assert again.stop_reason == "max_epoch"


def test_train_finished_not_printed_when_the_run_goes_on_or_starts_at_its_limit(tmp_path, capsys):
    path = tmp_path / "trainer.ckpt"
    _trainer(path, 1).train()
    _trainer(path, 2).train()  # resumes and trains one more epoch
    _trainer(tmp_path / "fresh.ckpt", 0).train()  # a fresh run with nothing to do
    assert "already finished" not in capsys.readouterr().err

"""CUDA paths: mixed precision, device moves, resume, and no per-step device-to-host sync.

Collected everywhere, run only where CUDA is present.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import Callback, LayerTrainer, evaluate

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.net(x).float())


def dataset(n: int = 256, device: str = "cpu") -> TensorDataset:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, generator=generator)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return TensorDataset(x.to(device), y.to(device))


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_train_cuda_mixed_precision_trains(amp):
    model = Classifier().cuda()
    trainer = LayerTrainer(
        model,
        dataset(),
        32,
        5,
        amp=amp,
        progress=False,
        seed=0,
        optimizer=lambda p: torch.optim.Adam(p, lr=0.01),
    )
    assert (trainer._scaler is not None) == (amp == "fp16")
    trainer.train()
    assert trainer.metrics["accuracy"] > 0.8
    assert all(p.device.type == "cuda" and torch.isfinite(p).all() for p in model.parameters())


def test_train_cuda_cpu_data_moves_and_resume_is_exact(tmp_path):
    def run(path, max_epoch):
        torch.manual_seed(0)
        model = Classifier().cuda()
        trainer = LayerTrainer(
            model,
            dataset(),
            32,
            max_epoch,
            checkpoint_path=path,
            validation_dataset=dataset(64),
            progress=False,
            seed=0,
            ema_decay=0.9,
        )
        trainer.train()
        return model, trainer

    path = tmp_path / "run.pt"
    run(path, 2)
    resumed, _ = run(path, 4)
    reference, trainer = run(None, 4)
    for a, b in zip(resumed.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)
    metrics = evaluate(reference, dataset(64), mode="layer")
    assert set(metrics) == {"log_prob", "accuracy"}
    assert trainer.device.type == "cuda"


def test_train_cuda_steps_read_nothing_from_the_device():
    class NoSync(Callback):
        """Any device-to-host sync between the first and the last step raises."""

        def on_batch_end(self, trainer):
            if trainer.global_step == 1:
                torch.cuda.set_sync_debug_mode("error")
            elif trainer.global_step == 7:
                torch.cuda.set_sync_debug_mode("default")

    trainer = LayerTrainer(
        Classifier().cuda(),
        dataset(device="cuda"),
        32,
        1,
        callbacks=[NoSync()],
        check_finite=False,
        log_every_n_steps=1000,
        progress=False,
        seed=0,
    )
    # torch.distributions' argument validation reads a flag back per call: off here
    validation = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        trainer.train()
    finally:
        torch.cuda.set_sync_debug_mode("default")
        torch.distributions.Distribution.set_default_validate_args(validation)
    assert len(trainer.history.batches) == 8

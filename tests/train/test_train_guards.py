"""Guards: maximize=True optimizers, the shuffle under another default device, positions."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import BatchLoader, DistributionTrainer, LayerTrainer


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.loc, 1.0).log_prob(x)


def test_train_refuses_an_optimizer_that_maximises():
    model = Gaussian()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, maximize=True)
    with pytest.raises(ValueError, match=r"Adam has maximize=True .*train it backwards"):
        DistributionTrainer(model, TensorDataset(torch.randn(8)), 4, 1, optimizer=optimizer)
    with pytest.raises(ValueError, match="maximize=True"):
        DistributionTrainer(
            model,
            TensorDataset(torch.randn(8)),
            4,
            1,
            optimizer=lambda p: torch.optim.SGD(p, lr=0.1, maximize=True),
        )


def test_train_shuffle_ignores_the_default_device():
    data = TensorDataset(torch.arange(16.0))
    expected = BatchLoader(data, 4, seed=3).indices(2)
    torch.set_default_device("meta")  # any tensor made without a device would be meta
    try:
        order = BatchLoader(data, 4, seed=3).indices(2)
        unshuffled = BatchLoader(data, 4, shuffle=False).indices(0)
    finally:
        torch.set_default_device(None)
    assert order.device.type == "cpu"
    assert torch.equal(order, expected)
    assert unshuffled.tolist() == list(range(16))


def test_train_layer_trainer_keeps_the_original_positions():
    names = list(inspect.signature(LayerTrainer).parameters)[:10]
    assert names == [
        "trainable",
        "dataset",
        "batch_size",
        "max_epoch",
        "batch_end_callback",
        "epoch_end_callback",
        "use_scheduler",
        "dummy_run",
        "reverse_inputs",
        "model_path",
    ]

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(1, 2)

        def forward(self, labels: torch.Tensor) -> torch.distributions.Normal:
            loc, log_scale = self.linear(labels.float()[:, None]).unbind(-1)
            return torch.distributions.Normal(loc, log_scale.exp())

    x = torch.randn(16)
    labels = (x > 0).long()
    # original code passes reverse_inputs positionally: model x given the label
    trainer = LayerTrainer(
        Layer(), TensorDataset(x, labels), 8, 1, None, None, False, False, True, progress=False
    )
    assert trainer.reverse_inputs is True
    trainer.train()
    assert trainer.batch_num == 2

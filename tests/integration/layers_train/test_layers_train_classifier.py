"""Both classifier forms of the original README train with LayerTrainer.

Data: a few hundred synthetic 28x28 images; class ``k`` lights up one 7x7 block of a 4x4
grid of blocks, under noise. Every test asserts that training improved the model.
"""

from __future__ import annotations

import pytest
import torch
import torch.distributions as td
from torch import nn
from torch.utils.data import TensorDataset

from pygen.layers import Categorical, ClassifierNet
from pygen.train import LayerTrainer


def block_images(n: int, num_classes: int = 10, seed: int = 0) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (n,), generator=generator)
    images = 0.3 * torch.rand(n, 1, 28, 28, generator=generator)
    for i, label in enumerate(labels.tolist()):
        row, col = divmod(label, 4)
        images[i, 0, 7 * row : 7 * row + 7, 7 * col : 7 * col + 7] += 0.7
    return TensorDataset(images, labels)


def mean_log_prob_and_accuracy(
    model: nn.Module, data: TensorDataset, limit: int = 64
) -> tuple[float, float]:
    images, labels = (t[:limit] for t in data.tensors)
    model.eval()
    with torch.no_grad():
        d = model(images)
        result = (
            d.log_prob(labels).mean().item(),
            (d.logits.argmax(-1) == labels).float().mean().item(),
        )
    model.train()
    return result


def train(model: nn.Module, data: TensorDataset, epochs: int, lr: float) -> LayerTrainer:
    trainer = LayerTrainer(
        model,
        data,
        batch_size=32,
        max_epoch=epochs,
        progress=False,
        seed=0,
        optimizer=lambda params: torch.optim.Adam(params, lr=lr),
    )
    trainer.train()
    return trainer


@pytest.mark.slow
def test_sequential_classifier_net_and_categorical_layer_trains() -> None:
    torch.manual_seed(0)
    data = block_images(128)
    model = nn.Sequential(ClassifierNet(mnist=True), Categorical())
    before, _ = mean_log_prob_and_accuracy(model, data)
    trainer = train(model, data, epochs=2, lr=2e-3)
    after, accuracy = mean_log_prob_and_accuracy(model, data)
    assert after > before + 1.0  # from about -log(10) = -2.30 towards 0
    assert accuracy > 0.8
    assert trainer.metrics["accuracy"] > 0.5
    assert len(trainer.history.epochs) == 2


class HandWrittenClassifier(nn.Module):
    """The README's second form: a plain module returning torch's own Categorical."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> td.Categorical:
        return td.Categorical(logits=self.net(x))


def test_hand_written_module_returning_torch_categorical_trains() -> None:
    torch.manual_seed(0)
    data = block_images(320)
    model = HandWrittenClassifier()
    before, _ = mean_log_prob_and_accuracy(model, data)
    trainer = train(model, data, epochs=2, lr=3e-3)
    after, accuracy = mean_log_prob_and_accuracy(model, data)
    assert after > before + 1.0
    assert accuracy > 0.8
    assert trainer.history.epochs[-1]["log_prob"] > trainer.history.epochs[0]["log_prob"]

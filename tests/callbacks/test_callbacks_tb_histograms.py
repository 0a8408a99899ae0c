"""TBHistogramsCallback: checks, then weight and gradient histograms read back."""

from __future__ import annotations

import pytest
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBHistogramsCallback
from pygen.train import DistributionTrainer


def test_rejects_bad_arguments(tmp_path, stand_in):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match=r"lacking add_histogram"):
        TBHistogramsCallback(type("W", (), {"add_scalar": print})())
    with pytest.raises(ValueError, match=r"at least one of weights, gradients must be True"):
        TBHistogramsCallback(writer, weights=False, gradients=False)
    with pytest.raises(TypeError, match=r"weights must be a bool; got str"):
        TBHistogramsCallback(writer, weights="yes")
    with pytest.raises(ValueError, match=r"weights_prefix and gradients_prefix must differ"):
        TBHistogramsCallback(writer, weights_prefix="h/", gradients_prefix="h/")
    with pytest.raises(TypeError, match=r"torch.nn.Module with parameters; got str"):
        TBHistogramsCallback(writer)(stand_in(trainable="model", epoch=0))
    writer.close()


def test_weight_and_gradient_histograms(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    model = models.BernoulliImages()
    trainer = DistributionTrainer(
        model,
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        callbacks=[TBHistogramsCallback(writer)],
    )
    trainer.train()
    writer.close()
    accumulator = events(tmp_path)
    assert set(accumulator.Tags()["histograms"]) == {"weights/logits", "gradients/logits"}
    weights = accumulator.Histograms("weights/logits")
    gradients = accumulator.Histograms("gradients/logits")
    assert [event.step for event in weights] == [0, 1]
    assert [event.step for event in gradients] == [0, 1]
    last = weights[-1].histogram_value
    assert last.num == 64
    assert last.min == pytest.approx(model.logits.min().item())
    assert last.max == pytest.approx(model.logits.max().item())
    assert gradients[-1].histogram_value.num == 64
    assert gradients[-1].histogram_value.max == pytest.approx(model.logits.grad.max().item())

"""callback_compose / ComposedCallback: legacy calls, hooks in callbacks=[...], state."""

from __future__ import annotations

import numpy as np
import pytest
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import (
    ComposedCallback,
    EarlyStopping,
    TBBatchLogProbCallback,
    TBTotalLogProbCallback,
    callback_compose,
)
from pygen.train import Callback, DistributionTrainer


class Hooks(Callback):
    """A Callback without __call__ that records the hooks it sees."""

    def __init__(self, seen):
        self.seen = seen

    def on_train_start(self, trainer):
        self.seen.append("train_start")

    def on_epoch_start(self, trainer):
        self.seen.append("epoch_start")

    def on_epoch_end(self, trainer):
        self.seen.append("epoch_end")

    def on_train_end(self, trainer):
        self.seen.append("train_end")


def test_rejects_non_callables():
    with pytest.raises(TypeError, match=r"list_callbacks\[1\] must be callable.*got int"):
        callback_compose([print, 3])
    with pytest.raises(TypeError, match=r"must be a list of callables; got str"):
        callback_compose("abc")


def test_a_hook_only_callback_cannot_be_called_legacy_style():
    composed = callback_compose([Hooks([])])
    with pytest.raises(TypeError, match=r"list_callbacks\[0\] is a Hooks.*callbacks=\[...\]"):
        composed(object())


def test_legacy_composition_calls_in_order(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    order = []
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        batch_end_callback=TBBatchLogProbCallback(writer, "batch"),
        epoch_end_callback=callback_compose(
            [
                lambda trainer: order.append(("first", trainer.epoch)),
                TBTotalLogProbCallback(writer, "epoch"),
                lambda trainer: order.append(("last", trainer.epoch)),
            ]
        ),
    )
    trainer.train()
    writer.close()
    assert order == [("first", 0), ("last", 0), ("first", 1), ("last", 1)]
    accumulator = events(tmp_path)
    assert len(accumulator.Scalars("batch")) == 4
    np.testing.assert_array_equal(
        np.float32([event.value for event in accumulator.Scalars("epoch")]),
        np.float32(trainer.history.epoch_values("log_prob")),
    )


def test_composition_in_callbacks_forwards_hooks_and_state(models, data):
    seen = []
    stopper = EarlyStopping("log_prob", patience=1, min_delta=1e9)
    composed = callback_compose([Hooks(seen), print, stopper])
    assert isinstance(composed, ComposedCallback)
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(16)),
        batch_size=16,
        max_epoch=5,
        progress=False,
        callbacks=[composed],
    )
    trainer.train()
    # min_delta is huge: the second epoch cannot improve, so training stops after it
    assert seen == [
        "train_start",
        "epoch_start",
        "epoch_end",
        "epoch_start",
        "epoch_end",
        "train_end",
    ]
    assert len(trainer.history.epochs) == 2
    state = composed.state_dict()
    assert set(state) == {"0", "2"}
    assert state["2"]["stopped_epoch"] == 1
    again = callback_compose(
        [Hooks([]), print, EarlyStopping("log_prob", patience=1, min_delta=1e9)]
    )
    again.load_state_dict(state)
    assert again.callbacks[2].state_dict() == stopper.state_dict()
    with pytest.raises(ValueError, match=r"position 1 but the composition holds no Callback"):
        again.load_state_dict({"1": {}})

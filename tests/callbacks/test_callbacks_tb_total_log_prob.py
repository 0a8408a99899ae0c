"""TBTotalLogProbCallback: argument checks, the value, and real training read back."""

from __future__ import annotations

import numpy as np
import pytest
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBTotalLogProbCallback
from pygen.train import DistributionTrainer


class Recorder:
    def __init__(self):
        self.calls = []

    def add_scalar(self, tag, value, step):
        self.calls.append((tag, value, step))


def test_rejects_bad_arguments():
    with pytest.raises(TypeError, match=r"lacking add_scalar"):
        TBTotalLogProbCallback(object(), "epoch")
    with pytest.raises(ValueError, match=r"non-empty"):
        TBTotalLogProbCallback(Recorder(), "")


def test_falls_back_to_the_running_sum_without_metrics(stand_in):
    recorder = Recorder()
    TBTotalLogProbCallback(recorder, "e")(stand_in(total_log_prob=-9.0, batch_len=3, epoch=1))
    assert recorder.calls == [("e", -3.0, 1)]
    with pytest.raises(ValueError, match=r"at least one batch.*batch_len=0"):
        TBTotalLogProbCallback(recorder, "e")(stand_in(total_log_prob=0.0, batch_len=0, epoch=0))


@pytest.mark.parametrize("style", ["legacy", "callback"])
def test_logged_epoch_log_prob_equals_the_history(tmp_path, models, data, events, style):
    writer = SummaryWriter(tmp_path)
    callback = TBTotalLogProbCallback(writer, "epoch_log_prob")
    options = {"epoch_end_callback": callback} if style == "legacy" else {"callbacks": [callback]}
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(48)),
        batch_size=16,
        max_epoch=3,
        progress=False,
        seed=0,
        **options,
    )
    trainer.train()
    writer.close()
    scalars = events(tmp_path).Scalars("epoch_log_prob")
    assert [event.step for event in scalars] == [0, 1, 2]
    expected = np.float32(trainer.history.epoch_values("log_prob"))
    np.testing.assert_array_equal(np.float32([event.value for event in scalars]), expected)
    # the epoch mean is the mean of the batch means
    first_epoch = [record["log_prob"] for record in trainer.history.batches if record["epoch"] == 0]
    assert scalars[0].value == pytest.approx(np.mean(first_epoch), rel=1e-6)

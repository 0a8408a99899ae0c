"""TBBatchLogProbCallback: argument checks, then real training read back from TensorBoard."""

from __future__ import annotations

import numpy as np
import pytest
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBBatchLogProbCallback
from pygen.train import DistributionTrainer


def test_rejects_a_writer_without_add_scalar():
    with pytest.raises(TypeError, match=r"tb_writer must be a TensorBoard SummaryWriter.*object"):
        TBBatchLogProbCallback(object(), "batch")
    with pytest.raises(TypeError, match=r"got None"):
        TBBatchLogProbCallback(None, "batch")


def test_rejects_bad_names(tmp_path):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(ValueError, match=r"tb_name must be a non-empty string"):
        TBBatchLogProbCallback(writer, "")
    with pytest.raises(TypeError, match=r"tb_name must be a str; got int"):
        TBBatchLogProbCallback(writer, 3)
    writer.close()


def test_missing_trainer_attribute_is_named(tmp_path, stand_in):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match=r"attribute 'log_prob_item'"):
        TBBatchLogProbCallback(writer, "batch")(stand_in(batch_num=1))
    writer.close()


@pytest.mark.parametrize("style", ["legacy", "callback"])
def test_logs_every_batch_at_the_global_batch_number(tmp_path, models, data, events, style):
    writer = SummaryWriter(tmp_path)
    callback = TBBatchLogProbCallback(writer, "batch_log_prob")
    options = {"batch_end_callback": callback} if style == "legacy" else {"callbacks": [callback]}
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(64)),
        batch_size=16,
        max_epoch=2,
        progress=False,
        seed=0,
        **options,
    )
    trainer.train()
    writer.close()
    scalars = events(tmp_path).Scalars("batch_log_prob")
    assert [event.step for event in scalars] == list(range(1, 9))
    expected = np.float32([record["log_prob"] for record in trainer.history.batches])
    np.testing.assert_array_equal(np.float32([event.value for event in scalars]), expected)

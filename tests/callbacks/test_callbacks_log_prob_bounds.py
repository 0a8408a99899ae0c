"""The log-likelihood callbacks refuse a trainer whose objective is a bound, before it steps.

TBBatchLogProbCallback and TBTotalLogProbCallback read the trainer's exact log-likelihood
(NaN for any other objective); TBDatasetLogProbDistributionCallback evaluates the model's
own log_prob, so it refuses a model without one. Real trainers, real event files.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import (
    TBBatchLogProbCallback,
    TBDatasetLogProbDistributionCallback,
    TBDatasetLogProbLayerCallback,
    TBDatasetObjectiveCallback,
    TBMetricsCallback,
    TBTotalLogProbCallback,
)
from pygen.train import CallableObjective, DistributionTrainer, LayerTrainer, evaluate
from pygen.train.objective import LogProbObjective

ALTERNATIVES = r"TBMetricsCallback\(tb_writer\).*TBDatasetObjectiveCallback\(tb_writer, dataset"


def make_callback(kind, writer, data):
    if kind == "batch":
        return TBBatchLogProbCallback(writer, "log_prob")
    if kind == "total":
        return TBTotalLogProbCallback(writer, "log_prob")
    return TBDatasetLogProbDistributionCallback(writer, "log_prob", TensorDataset(data))


def make_trainer(model, dataset, objective, *, trainer=DistributionTrainer, **options):
    options = {"batch_size": 8, "max_epoch": 2, "progress": False, "seed": 0, **options}
    return trainer(model, dataset, objective=objective, **options)


def latent_trainer(models, data, objective, **options):
    dataset = TensorDataset(data.binary_images(32))
    return make_trainer(models.LatentBernoulliImages(), dataset, objective, **options)


def scalar_tags(events, logdir):
    return events(logdir).Tags()["scalars"]


@pytest.mark.parametrize("kind", ["batch", "total", "dataset"])
@pytest.mark.parametrize("named", [True, False], ids=["elbo", "plain_callable"])
def test_a_bound_is_refused_before_the_first_step(tmp_path, models, data, events, kind, named):
    writer = SummaryWriter(tmp_path)
    objective = CallableObjective(models.latent_elbo, name="elbo") if named else models.latent_elbo
    callback = make_callback(kind, writer, data.binary_images(8, seed=1))
    trainer = latent_trainer(
        models, data, objective, callbacks=[TBMetricsCallback(writer), callback]
    )
    before = [parameter.detach().clone() for parameter in trainer.trainable.parameters()]
    owner = type(callback).__name__
    described = (
        r"'elbo' \(metric kind 'bound', CallableObjective of latent_elbo\)"
        if named
        else r"'objective' \(metric kind 'other', CallableObjective of latent_elbo\)"
    )
    if kind == "dataset":
        match = rf"{owner}: .*LatentBernoulliImages has no log_prob method.*{described}"
    else:
        match = (
            rf"{owner}: logs the exact log-likelihood \('log_prob'\).*maximises {described}"
            r".*known after its first batch.*NaN"
        )
    with pytest.raises(TypeError, match=match + ".*" + ALTERNATIVES):
        trainer.train()
    assert trainer.batch_num == 0
    assert trainer.history.batches == []
    for old, new in zip(before, trainer.trainable.parameters(), strict=True):
        assert torch.equal(old, new)
    writer.close()
    assert scalar_tags(events, tmp_path) == []


def test_legacy_batch_callback_is_refused_before_the_first_step(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    callback = TBBatchLogProbCallback(writer, "batch_log_prob")
    trainer = latent_trainer(
        models,
        data,
        CallableObjective(models.latent_elbo, name="elbo"),
        batch_end_callback=callback,
    )
    # The trainer forwards on_train_start to a Callback given as a legacy hook.
    with pytest.raises(TypeError, match=r"maximises 'elbo'.*known after its first batch"):
        trainer.train()
    assert trainer.batch_num == 0
    writer.close()
    assert scalar_tags(events, tmp_path) == []


def test_legacy_epoch_callbacks_are_refused_before_the_first_step(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    callback = TBTotalLogProbCallback(writer, "epoch_log_prob")
    trainer = latent_trainer(models, data, models.latent_elbo, epoch_end_callback=callback)
    with pytest.raises(TypeError, match=r"TBTotalLogProbCallback: .*maximises 'objective'"):
        trainer.train()
    assert trainer.batch_num == 0
    assert math.isnan(trainer.total_log_prob)
    writer.close()
    assert scalar_tags(events, tmp_path) == []


def test_a_direct_call_is_refused_once_the_metrics_are_known(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    callback = TBBatchLogProbCallback(writer, "batch_log_prob")
    objective = CallableObjective(models.latent_elbo, name="elbo")
    trainer = latent_trainer(models, data, objective, max_steps=1)
    trainer.train()
    assert math.isnan(trainer.log_prob_item)  # what would have been written
    with pytest.raises(
        TypeError, match=r"maximises 'elbo'.*its metrics are \['elbo', 'elbo_bits_per_dim', 'kl'\]"
    ):
        callback(trainer)
    with pytest.raises(TypeError, match=r"TBTotalLogProbCallback: .*maximises 'elbo'"):
        TBTotalLogProbCallback(writer, "epoch_log_prob").epoch_log_prob(trainer)
    writer.close()
    assert scalar_tags(events, tmp_path) == []


def test_every_rank_refuses_so_all_stop_together(stand_in):
    trainer = stand_in(
        is_main_process=False,
        rank=1,
        epoch=0,
        batch_num=1,
        log_prob_item=math.nan,
        objective=CallableObjective(lambda model, batch: batch[0], name="iwae_64"),
        trainable=torch.nn.Linear(2, 2),
    )
    for callback in (
        TBBatchLogProbCallback(SummaryWriterStub(), "b"),
        TBTotalLogProbCallback(SummaryWriterStub(), "t"),
        TBDatasetLogProbDistributionCallback(
            SummaryWriterStub(), "d", TensorDataset(torch.zeros(2))
        ),
    ):
        with pytest.raises(TypeError, match=r"'iwae_64' \(metric kind 'bound'"):
            callback.on_train_start(trainer)
        with pytest.raises(TypeError, match=r"'iwae_64' \(metric kind 'bound'"):
            callback(trainer)
        assert callback.tb_writer.calls == []


class SummaryWriterStub:
    def __init__(self):
        self.calls = []

    def add_scalar(self, *args):
        self.calls.append(args)


def test_trainer_like_objects_are_checked_only_when_they_have_an_objective(stand_in):
    writer = SummaryWriterStub()
    TBBatchLogProbCallback(writer, "b")(stand_in(log_prob_item=-2.0, batch_num=3))
    TBBatchLogProbCallback(writer, "b")(
        stand_in(log_prob_item=-1.0, batch_num=4, objective=LogProbObjective())
    )
    assert writer.calls == [("b", -2.0, 3), ("b", -1.0, 4)]
    with pytest.raises(TypeError, match=r"'kl' \(metric kind 'other', CallableObjective of"):
        TBBatchLogProbCallback(writer, "b")(
            stand_in(
                log_prob_item=math.nan,
                batch_num=5,
                objective=CallableObjective(lambda model, batch: batch[0], name="kl"),
                batch_metrics={},
            )
        )
    assert len(writer.calls) == 2


@pytest.mark.parametrize("style", ["legacy", "callback"])
def test_an_exact_log_prob_objective_still_logs_its_values(tmp_path, models, data, events, style):
    writer = SummaryWriter(tmp_path)
    batch = TBBatchLogProbCallback(writer, "batch_log_prob")
    total = TBTotalLogProbCallback(writer, "epoch_log_prob")
    objective = CallableObjective(lambda model, batch: model.log_prob(batch[0]), name="log_prob")
    options = (
        {"batch_end_callback": batch, "epoch_end_callback": total}
        if style == "legacy"
        else {"callbacks": [batch, total]}
    )
    dataset = TensorDataset(data.binary_images(32))
    trainer = make_trainer(models.BernoulliImages(), dataset, objective, **options)
    trainer.train()
    writer.close()
    accumulator = events(tmp_path)
    batches = np.float32([event.value for event in accumulator.Scalars("batch_log_prob")])
    epochs = np.float32([event.value for event in accumulator.Scalars("epoch_log_prob")])
    assert np.isfinite(batches).all()
    assert np.isfinite(epochs).all()
    expected = np.float32([record["log_prob"] for record in trainer.history.batches])
    np.testing.assert_array_equal(batches, expected)
    np.testing.assert_array_equal(epochs, np.float32(trainer.history.epoch_values("log_prob")))


def test_dataset_log_prob_watches_an_exact_model_whatever_trains_it(tmp_path, models, data, events):
    """A model with an exact log_prob trained on a penalised objective: its dataset
    log-likelihood is still exact, so it is logged (the batch and epoch callbacks refuse)."""

    def penalised(model, batch):
        return model.log_prob(batch[0]) - 0.1 * model.logits.pow(2).sum()

    writer = SummaryWriter(tmp_path)
    held_out = TensorDataset(data.binary_images(16, seed=1))
    callback = TBDatasetLogProbDistributionCallback(writer, "val_log_prob", held_out)
    trainer = make_trainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        CallableObjective(penalised, name="penalised"),
        callbacks=[callback],
    )
    trainer.train()
    writer.close()
    values = [event.value for event in events(tmp_path).Scalars("val_log_prob")]
    assert len(values) == 2
    assert np.isfinite(values).all()
    final = evaluate(trainer.trainable, held_out, mode="distribution")["log_prob"]
    assert values[-1] == pytest.approx(final, rel=1e-6)
    with pytest.raises(TypeError, match=r"maximises 'penalised' \(metric kind 'other'"):
        TBTotalLogProbCallback(writer, "t").on_train_start(trainer)


def test_dataset_layer_log_prob_is_not_tied_to_the_objective(tmp_path, models, data, events):
    """A layer's output log_prob is exact for any distribution it returns: no refusal."""
    pairs = data.labelled_images(24)

    def smoothed(model, batch):
        output = model(batch[0])
        return 0.9 * output.log_prob(batch[1]) + 0.1 * output.logits.mean(-1)

    writer = SummaryWriter(tmp_path)
    callback = TBDatasetLogProbLayerCallback(writer, "val_log_prob", pairs)
    trainer = make_trainer(
        models.SoftmaxClassifier(),
        pairs,
        CallableObjective(smoothed, name="smoothed"),
        trainer=LayerTrainer,
        max_epoch=1,
        callbacks=[callback],
    )
    trainer.train()
    writer.close()
    (value,) = [event.value for event in events(tmp_path).Scalars("val_log_prob")]
    assert value == pytest.approx(evaluate(trainer.trainable, pairs, mode="layer")["log_prob"])


def test_the_suggested_callbacks_log_the_bound_without_nan(tmp_path, models, data, events):
    writer = SummaryWriter(tmp_path)
    held_out = TensorDataset(data.binary_images(16, seed=1))
    trainer = latent_trainer(
        models,
        data,
        CallableObjective(models.latent_elbo, name="elbo"),
        callbacks=[
            TBMetricsCallback(writer, log_batch_metrics=True),
            TBDatasetObjectiveCallback(
                writer, held_out, CallableObjective(models.latent_elbo, name="elbo")
            ),
        ],
    )
    trainer.train()
    writer.close()
    accumulator = events(tmp_path)
    tags = accumulator.Tags()["scalars"]
    assert {"epoch/elbo", "epoch/kl", "batch/elbo", "val_elbo"} <= set(tags)
    assert not any("log_prob" in tag for tag in tags)
    for tag in tags:
        assert np.isfinite([event.value for event in accumulator.Scalars(tag)]).all(), tag

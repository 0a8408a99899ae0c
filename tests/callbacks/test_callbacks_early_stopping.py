"""EarlyStopping: checks, the patience rule, a real run that stops, state round-trip, resume."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import TensorDataset

from pygen.callbacks import EarlyStopping
from pygen.train import DistributionTrainer


def test_rejects_bad_arguments():
    with pytest.raises(
        ValueError, match=r"mode must be one of 'auto', 'max', 'min'; got 'maximum'"
    ):
        EarlyStopping(mode="maximum")
    with pytest.raises(ValueError, match=r"mode='auto' cannot tell.*'score'.*pass mode='max'"):
        EarlyStopping("score")
    with pytest.raises(ValueError, match=r"patience must be an int >= 1; got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match=r"min_delta must be a finite number >= 0; got -0.1"):
        EarlyStopping(min_delta=-0.1)
    with pytest.raises(TypeError, match=r"monitor must be a str; got NoneType"):
        EarlyStopping(None)


def test_mode_auto_follows_the_metric_name():
    assert EarlyStopping("val_log_prob").mode == "max"
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_bits_per_dim").mode == "min"
    assert EarlyStopping("score", mode="min").mode == "min"


def test_missing_metric_lists_what_exists(stand_in):
    trainer = stand_in(epoch=0, metrics={"log_prob": -1.0, "lr": 0.1}, should_stop=False)
    with pytest.raises(
        ValueError, match=r"'val_log_prob' is not among.*\['log_prob', 'lr'\].*validation_dataset"
    ):
        EarlyStopping()(trainer)


def run_sequence(stopper, values, stand_in):
    trainer = stand_in(should_stop=False)
    stops = []
    for epoch, value in enumerate(values):
        trainer.epoch, trainer.metrics = epoch, {"val_bits_per_dim": value}
        stopper(trainer)
        stops.append(trainer.should_stop)
    return stops


def test_min_mode_with_min_delta(stand_in):
    stopper = EarlyStopping("val_bits_per_dim", patience=2, min_delta=0.05)
    # 1.96 improves on 2.0 by less than min_delta: it does not count
    stops = run_sequence(stopper, [2.0, 1.9, 1.86, 1.8, 1.79, 1.78], stand_in)
    assert stops == [False, False, False, False, False, True]
    assert stopper.best_score == 1.8
    assert stopper.best_epoch == 3
    assert stopper.stopped_epoch == 5
    assert "did not improve on 1.8 (epoch 3)" in stopper.stop_reason


def test_non_finite_stops_at_once(stand_in):
    stopper = EarlyStopping("val_bits_per_dim", patience=5)
    assert run_sequence(stopper, [2.0, math.nan], stand_in) == [False, True]
    assert "not finite" in stopper.stop_reason
    relaxed = EarlyStopping("val_bits_per_dim", patience=2, check_finite=False)
    assert run_sequence(relaxed, [2.0, math.nan, math.nan], stand_in) == [False, False, True]


def test_state_round_trip_and_mismatch():
    stopper = EarlyStopping(patience=4)
    stopper.best_score, stopper.best_epoch, stopper.wait_count = -1.5, 2, 3
    restored = EarlyStopping(patience=4)
    restored.load_state_dict(stopper.state_dict())
    assert restored.state_dict() == stopper.state_dict()
    with pytest.raises(ValueError, match=r"saved for monitor='val_log_prob'.*monitor='log_prob'"):
        EarlyStopping("log_prob").load_state_dict(stopper.state_dict())
    with pytest.raises(ValueError, match=r"state lacks keys"):
        EarlyStopping().load_state_dict({"monitor": "val_log_prob"})
    with pytest.raises(TypeError, match=r"state must be a dict"):
        EarlyStopping().load_state_dict([1])


def overfitting_run(models, stopper, checkpoint_path=None, max_epoch=30):
    """Train a Normal's mean from -2 towards the training mean 2; validation data sit at 0.

    Full-batch SGD moves the mean -2, -1.2, -0.56, -0.048, 0.36, ...: the validation
    log-likelihood improves until the mean passes 0, then only gets worse.
    """
    train = TensorDataset(torch.tensor([1.0, 3.0]))
    validation = TensorDataset(torch.tensor([-1.0, 1.0]))
    return DistributionTrainer(
        models.Gaussian(-2.0),
        train,
        batch_size=2,
        max_epoch=max_epoch,
        progress=False,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.2),
        validation_dataset=validation,
        callbacks=[stopper],
        checkpoint_path=checkpoint_path,
    )


def test_stops_a_run_whose_validation_stops_improving(models):
    stopper = EarlyStopping(patience=3)
    trainer = overfitting_run(models, stopper)
    trainer.train()
    values = trainer.history.epoch_values("val_log_prob")
    best = max(range(len(values)), key=values.__getitem__)
    assert best == 2
    assert all(later < values[best] for later in values[best + 1 :])
    assert len(trainer.history.epochs) == best + 1 + 3  # three epochs of patience, then stop
    assert trainer.should_stop
    assert (stopper.best_epoch, stopper.stopped_epoch, stopper.wait_count) == (2, 5, 3)
    assert stopper.best_score == values[2]


def test_resumed_run_stops_where_the_uninterrupted_one_did(models, tmp_path):
    checkpoint = tmp_path / "run.pt"
    first = overfitting_run(models, EarlyStopping(patience=3), checkpoint, max_epoch=4)
    first.train()
    assert len(first.history.epochs) == 4
    assert not first.should_stop
    stopper = EarlyStopping(patience=3)
    resumed = overfitting_run(models, stopper, checkpoint)
    resumed.train()
    assert len(resumed.history.epochs) == 6
    assert (stopper.best_epoch, stopper.stopped_epoch) == (2, 5)

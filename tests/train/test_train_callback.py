"""Tests for pygen.train.callback: the hook order and the state a callback sees."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import Callback, DistributionTrainer, LayerTrainer


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.loc, 1.0).log_prob(x)


class Recorder(Callback):
    def __init__(self, name: str, log: list) -> None:
        self.name = name
        self.log = log

    def on_train_start(self, trainer):
        self.log.append((self.name, "train_start", trainer.epoch, trainer.batch_num))

    def on_epoch_start(self, trainer):
        self.log.append((self.name, "epoch_start", trainer.epoch, trainer.batch_num))

    def on_batch_end(self, trainer):
        self.log.append((self.name, "batch_end", trainer.epoch, trainer.batch_num))

    def on_epoch_end(self, trainer):
        self.log.append((self.name, "epoch_end", trainer.epoch, trainer.batch_num))

    def on_train_end(self, trainer):
        self.log.append((self.name, "train_end", trainer.epoch, trainer.batch_num))


def test_train_callback_load_state_dict_rejects_non_dict():
    with pytest.raises(TypeError, match="state must be a dict, got list"):
        Callback().load_state_dict([1])


def test_train_callback_base_hooks_are_no_ops_and_stateless():
    callback = Callback()
    trainer = DistributionTrainer(
        Gaussian(), TensorDataset(torch.randn(8)), 4, 1, callbacks=[callback], progress=False
    )
    trainer.train()
    assert callback.state_dict() == {}
    assert trainer.batch_num == 2


def test_train_callback_events_in_order_legacy_first():
    log: list = []

    def legacy_batch(trainer):
        log.append(("legacy", "batch_end", trainer.epoch, trainer.batch_num))

    def legacy_epoch(trainer):
        log.append(("legacy", "epoch_end", trainer.epoch, trainer.batch_num))

    trainer = DistributionTrainer(
        Gaussian(),
        TensorDataset(torch.randn(8)),
        4,
        2,
        legacy_batch,
        legacy_epoch,
        callbacks=[Recorder("a", log), Recorder("b", log)],
        progress=False,
    )
    trainer.train()
    expected = [("a", "train_start", 0, 0), ("b", "train_start", 0, 0)]
    for epoch in range(2):
        expected += [("a", "epoch_start", epoch, 2 * epoch), ("b", "epoch_start", epoch, 2 * epoch)]
        for batch in (2 * epoch + 1, 2 * epoch + 2):
            expected += [(name, "batch_end", epoch, batch) for name in ("legacy", "a", "b")]
        expected += [(name, "epoch_end", epoch, 2 * epoch + 2) for name in ("legacy", "a", "b")]
    expected += [("a", "train_end", 1, 4), ("b", "train_end", 1, 4)]
    assert log == expected


class CallableRecorder(Recorder):
    """A Callback that is also callable, as every pygen-callbacks callback is."""

    def __call__(self, trainer):
        self.log.append((self.name, "called", trainer.epoch, trainer.batch_num))


def test_a_callback_passed_as_a_legacy_hook_gets_its_start_and_end_hooks_too():
    log: list = []
    trainer = DistributionTrainer(
        Gaussian(),
        TensorDataset(torch.randn(8)),
        4,
        1,
        batch_end_callback=CallableRecorder("batch", log),
        epoch_end_callback=CallableRecorder("epoch", log),
        progress=False,
    )
    trainer.train()
    # Called at its one event as hook(trainer); on_train_start / on_train_end forwarded,
    # its other hooks (epoch_start, batch_end, epoch_end) not: the event is the call.
    assert log == [
        ("batch", "train_start", 0, 0),
        ("epoch", "train_start", 0, 0),
        ("batch", "called", 0, 1),
        ("batch", "called", 0, 2),
        ("epoch", "called", 0, 2),
        ("batch", "train_end", 0, 2),
        ("epoch", "train_end", 0, 2),
    ]


def test_a_legacy_callback_whose_start_check_fails_stops_before_the_first_step():
    class Refuses(Callback):
        def on_train_start(self, trainer):
            raise ValueError("refused at train start")

        def __call__(self, trainer):
            raise AssertionError("must not be reached")

    model = Gaussian()
    trainer = DistributionTrainer(
        model, TensorDataset(torch.randn(8)), 4, 1, epoch_end_callback=Refuses(), progress=False
    )
    with pytest.raises(ValueError, match="refused at train start"):
        trainer.train()
    assert trainer.batch_num == 0
    assert model.loc.item() == 0.0


def test_train_callback_sees_documented_state():
    seen: dict = {}

    class Inspector(Callback):
        def on_batch_end(self, trainer):
            seen.setdefault("batch", dict(trainer.batch_metrics))
            seen.setdefault("item", trainer.log_prob_item)
            seen.setdefault("len", trainer.batch_len)

        def on_epoch_end(self, trainer):
            seen["metrics"] = dict(trainer.metrics)
            seen["history_epochs"] = len(trainer.history.epochs)
            seen["mean"] = trainer.total_log_prob / trainer.batch_len
            seen["optimizer"] = trainer.optimizer
            seen["lr_now"] = trainer.optimizer.param_groups[0]["lr"]

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 3)

        def forward(self, x):
            return torch.distributions.Categorical(logits=self.linear(x))

    x = torch.randn(16, 2)
    trainer = LayerTrainer(
        Classifier(),
        TensorDataset(x, torch.randint(0, 3, (16,))),
        8,
        1,
        use_scheduler=True,
        callbacks=[Inspector()],
        validation_dataset=TensorDataset(x, torch.zeros(16, dtype=torch.long)),
        progress=False,
    )
    trainer.train()
    assert set(seen["batch"]) == {"log_prob", "accuracy"}
    assert seen["item"] == seen["batch"]["log_prob"]
    assert seen["len"] == 1
    assert set(seen["metrics"]) == {"log_prob", "accuracy", "lr", "val_log_prob", "val_accuracy"}
    assert seen["history_epochs"] == 1  # history is updated before on_epoch_end
    assert seen["metrics"]["log_prob"] == pytest.approx(seen["mean"])
    assert seen["optimizer"] is trainer.optimizer
    assert seen["lr_now"] == pytest.approx(1e-3)  # the scheduler steps after the callbacks
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 / 2**0.5)


def test_only_overridden_hooks_are_called_and_an_instance_hook_counts():
    """The trainer binds each event's handlers once per run: a hook left as Callback's
    no-op is skipped, one set on the instance (after construction too) is called."""
    from pygen.train.callback import bound_hooks

    class EpochsOnly(Callback):
        def on_epoch_end(self, trainer):
            self.epochs = getattr(self, "epochs", 0) + 1

    watcher, patched = EpochsOnly(), Callback()
    table = bound_hooks([watcher, patched])
    assert [len(table[event]) for event in ("on_batch_end", "on_epoch_end")] == [0, 1]
    steps: list[int] = []
    data = TensorDataset(torch.randn(8))
    trainer = DistributionTrainer(Gaussian(), data, 4, 2, callbacks=[watcher, patched])
    patched.on_batch_end = lambda trainer: steps.append(trainer.global_step)  # type: ignore[method-assign]
    trainer.train()
    assert steps == [1, 2, 3, 4]
    assert watcher.epochs == 2

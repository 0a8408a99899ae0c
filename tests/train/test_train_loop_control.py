"""Step-level control: accumulation, per-step schedulers, max_steps, step checkpoints with
bit-exact resume mid-epoch, EMA weights, step validation and time limits."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import Callback, LayerTrainer, evaluate
from pygen.train.checkpoint import safe_load


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.1), nn.Linear(8, 3))

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.net(x))


def dataset(n: int = 96) -> TensorDataset:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, generator=generator)
    return TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long())


def make(batch_size=8, max_epoch=3, path=None, callbacks=(), **options):
    torch.manual_seed(0)
    model = Classifier()
    options.setdefault("optimizer", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))
    trainer = LayerTrainer(
        model,
        dataset(),
        batch_size,
        max_epoch,
        checkpoint_path=path,
        callbacks=list(callbacks),
        seed=3,
        progress=False,
        **options,
    )
    return model, trainer


def test_train_accumulating_four_batches_of_8_matches_one_batch_of_32():
    model = Classifier()
    model.net[2].p = 0.0  # no dropout: the two runs must do the same arithmetic
    torch.manual_seed(0)
    small, small_trainer = make(8, 2, accumulate_grad_batches=4)
    small.net[2].p = 0.0
    small_trainer.train()
    large, large_trainer = make(32, 2)
    large.net[2].p = 0.0
    large_trainer.train()
    assert small_trainer.global_step == large_trainer.global_step == 6
    assert small_trainer.batch_num == 24
    for a, b in zip(small.parameters(), large.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert small_trainer.metrics["log_prob"] == pytest.approx(
        large_trainer.metrics["log_prob"], rel=1e-5
    )


def test_train_accumulation_with_a_short_last_batch_matches_one_batch_of_them_all():
    # 20 examples in batches of 8, 8 and 4, accumulated 3 at a time: one update per epoch,
    # which must be that of one batch of 20 (each batch weighted by its examples)
    runs = []
    for batch_size, accumulate in ((8, 3), (20, 1)):
        torch.manual_seed(0)
        model = Classifier()
        model.net[2].p = 0.0
        trainer = LayerTrainer(
            model,
            dataset(20),
            batch_size,
            2,
            accumulate_grad_batches=accumulate,
            drop_last=False,
            shuffle=False,
            optimizer=lambda p: torch.optim.SGD(p, lr=0.5),
            progress=False,
        )
        trainer.train()
        assert trainer.global_step == 2
        runs.append((model, trainer))
    (small, small_trainer), (large, large_trainer) = runs
    assert small_trainer.batch_num == 6
    for a, b in zip(small.parameters(), large.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert small_trainer.metrics["log_prob"] == pytest.approx(
        large_trainer.metrics["log_prob"], abs=1e-6
    )


def test_train_per_step_scheduler_reproduces_a_hand_written_loop():
    seen = []

    class Rates(Callback):
        def on_batch_end(self, trainer):
            seen.append(trainer.optimizer.param_groups[0]["lr"])

    def schedule(opt):
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.9**step)

    _, trainer = make(16, 2, callbacks=[Rates()], scheduler=schedule, scheduler_interval="step")
    trainer.train()
    optimizer = torch.optim.SGD(Classifier().parameters(), lr=0.1)
    scheduler = schedule(optimizer)
    expected = []
    for _ in range(12):
        optimizer.step()
        scheduler.step()
        expected.append(optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx(expected)
    assert trainer.history.epoch_values("lr") == pytest.approx([expected[5], expected[11]])


def test_train_scheduler_interval_is_checked():
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'step'"):
        make(scheduler_interval="batch")
    with pytest.raises(ValueError, match="cannot drive ReduceLROnPlateau"):
        make(
            scheduler=lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o),
            scheduler_interval="step",
        )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_steps": -1}, "max_steps must be >= 0"),
        ({"accumulate_grad_batches": 0}, "accumulate_grad_batches must be >= 1"),
        ({"ema_decay": 1.0}, r"ema_decay must be a number in \[0, 1\)"),
        ({"time_limit": 0}, "time_limit must be a positive number"),
        ({"checkpoint_every_n_steps": 2}, "need a checkpoint_path"),
        ({"validate_every_n_steps": 2}, "needs a validation_dataset"),
    ],
)
def test_train_loop_control_arguments_are_checked(options, match):
    with pytest.raises(ValueError, match=match):
        make(**options)


def test_train_max_steps_stops_mid_epoch_and_a_longer_run_resumes_exactly(tmp_path):
    path = tmp_path / "run.pt"
    _, first = make(8, 3, path, max_steps=17)  # 12 batches per epoch: stops in epoch 1
    first.train()
    assert first.stop_reason == "max_steps"
    state = safe_load(path)
    assert (state["global_step"], state["epochs_done"], state["batch_in_epoch"]) == (17, 1, 5)
    resumed, second = make(8, 3, path)
    second.train()
    assert second.stop_reason == "max_epoch"
    reference, third = make(8, 3)
    third.train()
    for a, b in zip(resumed.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)
    assert second.history.epochs == third.history.epochs


class CrashAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, trainer):
        if trainer.global_step == self.step:
            raise RuntimeError("simulated crash")


def test_train_step_checkpoint_with_ema_and_accumulation_resumes_bit_exact(tmp_path):
    path = tmp_path / "run.pt"
    options = {
        "accumulate_grad_batches": 2,
        "ema_decay": 0.9,
        "checkpoint_every_n_steps": 4,
        "validation_dataset": dataset(24),
        "validate_every_n_steps": 5,
    }
    _, crashing = make(8, 3, path, [CrashAt(10)], **options)  # 6 steps per epoch
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashing.train()
    state = safe_load(path)
    assert (state["global_step"], state["batch_in_epoch"]) == (8, 4)  # mid-epoch 1
    assert state["ema"] is not None
    resumed, trainer = make(8, 3, path, [CrashAt(-1)], **options)
    trainer.train()
    reference, uninterrupted = make(8, 3, tmp_path / "ref.pt", [CrashAt(-1)], **options)
    uninterrupted.train()
    for a, b in zip(resumed.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(trainer.ema.averages, uninterrupted.ema.averages, strict=True):
        assert torch.equal(a, b)
    assert trainer.history.epochs == uninterrupted.history.epochs
    # step validations are recorded in the history, with the EMA weights
    steps = [r["step"] for r in uninterrupted.history.batches if "val_log_prob" in r]
    assert steps == [5, 10, 15]
    with uninterrupted.ema.applied():
        expected = evaluate(reference, dataset(24), mode="layer", batch_size=8)
    assert uninterrupted.metrics["val_log_prob"] == pytest.approx(expected["log_prob"])
    assert uninterrupted.metrics["val_log_prob"] != pytest.approx(
        evaluate(reference, dataset(24), mode="layer")["log_prob"]
    )


def test_train_ema_checkpoint_must_match_the_trainer(tmp_path):
    path = tmp_path / "run.pt"
    make(8, 1, path, ema_decay=0.5)[1].train()
    with pytest.raises(ValueError, match=r"written with EMA weights .* but this trainer has none"):
        make(8, 2, path)[1].train()


def test_train_time_limit_stops_after_the_step_and_checkpoints(tmp_path):
    path = tmp_path / "run.pt"
    _, trainer = make(8, 3, path, time_limit=1e-9)
    trainer.train()
    assert trainer.stop_reason == "time_limit"
    assert trainer.global_step == 1
    assert safe_load(path)["global_step"] == 1

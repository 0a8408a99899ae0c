"""Tests for pygen.train.checkpoint and the trainer's checkpoint/resume."""

from __future__ import annotations

import os
import pathlib
import pickle
import stat

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import (
    Callback,
    LayerTrainer,
    UnsafeCheckpointError,
    atomic_save,
    atomic_write,
    safe_load,
)


class _Marker:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def test_train_checkpoint_atomic_save_rejects_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"folder .*missing.* does not exist"):
        atomic_save({"a": 1}, tmp_path / "missing" / "c.pt")


def test_train_checkpoint_safe_load_rejects_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not an existing file"):
        safe_load(tmp_path / "absent.pt")


def test_train_checkpoint_round_trip(tmp_path):
    state = {"w": torch.arange(3.0), "step": 7, "name": "x", "nested": [1, (2, 3)], "none": None}
    atomic_save(state, tmp_path / "c.pt")
    loaded = safe_load(tmp_path / "c.pt")
    assert torch.equal(loaded["w"], state["w"])
    assert loaded["nested"] == [1, (2, 3)]
    assert loaded["step"] == 7
    assert loaded["none"] is None
    assert os.listdir(tmp_path) == ["c.pt"]  # no temporary file left


@pytest.mark.parametrize("writer", ["pickle", "torch"])
def test_train_checkpoint_malicious_pickle_refused_and_code_never_runs(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"trainable": {}, "evil": _Marker(str(marker))}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    assert not marker.exists()
    with pytest.raises(
        UnsafeCheckpointError, match=r"refused .*evil\.pt.*Nothing in the file was executed"
    ):
        safe_load(path)
    assert not marker.exists()
    # the same file would indeed have run code with an unsafe loader
    if writer == "pickle":
        pickle.loads(path.read_bytes())
    else:
        torch.load(path, weights_only=False)
    assert marker.exists()


def test_train_checkpoint_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    atomic_save({"version": 1}, path)

    def broken_save(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"version": 2}, path)
    monkeypatch.undo()
    assert safe_load(path) == {"version": 1}
    assert os.listdir(tmp_path) == ["c.pt"]


def test_train_checkpoint_atomic_write_failing_writer_keeps_the_old_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old contents")

    def writer(stream):
        stream.write(b"new, but cut short")
        raise KeyboardInterrupt  # BaseException too: the temporary file still goes

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, writer)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_train_checkpoint_atomic_write_replaces_and_syncs_file_and_folder(tmp_path, monkeypatch):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old contents")
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor):
        mode = os.fstat(descriptor).st_mode
        # the target is not in place until the temporary file is synced
        synced.append("folder" if stat.S_ISDIR(mode) else f"file:{path.read_bytes()!r}")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    atomic_write(path, lambda stream: stream.write(b"new contents"))
    assert path.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["data.bin"]  # no temporary file left
    expected_folder_sync = ["folder"] if os.name == "posix" else []
    assert synced == ["file:b'old contents'", *expected_folder_sync]


def test_train_checkpoint_atomic_write_rejects_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"atomic_write: .*folder .*missing.* does not"):
        atomic_write(tmp_path / "missing" / "f.bin", lambda stream: stream.write(b"x"))


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.Linear(8, 3))

    def forward(self, x):
        return torch.distributions.Categorical(logits=self.net(x))


class Counter(Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_batch_end(self, trainer):
        self.batches += 1

    def state_dict(self):
        return {"batches": self.batches}

    def load_state_dict(self, state):
        self.batches = state["batches"]


class Crash(Callback):
    def __init__(self, at_epoch: int) -> None:
        self.at_epoch = at_epoch

    def on_epoch_end(self, trainer):
        if trainer.epoch == self.at_epoch:
            raise RuntimeError("simulated crash")


def _data() -> TensorDataset:
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(96, 3, generator=generator)
    return TensorDataset(x, (x.sum(-1) > 0).long() + (x[:, 0] > 1).long())


def _run(path, callbacks, max_epoch=4):
    torch.manual_seed(0)
    model = Classifier()
    trainer = LayerTrainer(
        model,
        _data(),
        16,
        max_epoch,
        checkpoint_path=path,
        callbacks=callbacks,
        seed=4,
        progress=False,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1, 0.7),
    )
    return model, trainer


def test_train_checkpoint_resume_is_bit_exact_and_restores_everything(tmp_path):
    reference, reference_trainer = _run(None, [Counter()])
    reference_trainer.train()

    path = tmp_path / "run.pt"
    _, crashing = _run(path, [Counter(), Crash(at_epoch=2)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashing.train()
    state = safe_load(path)  # loads with weights_only=True
    assert state["epochs_done"] == 2  # the crash happened before epoch 2's checkpoint
    assert set(state) >= {"trainable", "optimizer", "scheduler", "rng", "history", "callbacks"}

    counter = Counter()
    model, resumed = _run(path, [counter, Crash(at_epoch=99)])
    resumed.train()
    for a, b in zip(reference.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert counter.batches == 24
    assert resumed.batch_num == reference_trainer.batch_num == 24
    assert resumed.history.epochs == reference_trainer.history.epochs
    assert (
        resumed.optimizer.param_groups[0]["lr"] == reference_trainer.optimizer.param_groups[0]["lr"]
    )


def test_train_checkpoint_resume_rejects_different_callbacks(tmp_path):
    path = tmp_path / "run.pt"
    _run(path, [Counter()], max_epoch=1)[1].train()
    _, trainer = _run(path, [], max_epoch=2)
    with pytest.raises(ValueError, match=r"state of callback\(s\) \['Counter'\] but this trainer"):
        trainer.train()


def test_train_checkpoint_finished_run_is_not_retrained(tmp_path):
    path = tmp_path / "run.pt"
    model, trainer = _run(path, [], max_epoch=2)
    trainer.train()
    before = [p.detach().clone() for p in model.parameters()]
    model2, again = _run(path, [], max_epoch=2)
    again.train()
    assert again.batch_num == 12
    for a, b in zip(before, model2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_train_checkpoint_rejects_foreign_state(tmp_path):
    path = tmp_path / "other.pt"
    atomic_save({"model": {}}, path)
    _, trainer = _run(path, [])
    with pytest.raises(ValueError, match=r"pygen\.train checkpoint with format"):
        trainer.train()

"""CSVLogger: checks, exact values from real training, resume, widening header, ranks."""

from __future__ import annotations

import csv
import os
import stat

import pytest
from torch.utils.data import TensorDataset

from pygen.callbacks import CSVLogger
from pygen.train import DistributionTrainer


def read_rows(path):
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        return reader.fieldnames, list(reader)


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike; got int"):
        CSVLogger(3)
    with pytest.raises(ValueError, match=r"path must be a file, not a folder"):
        CSVLogger(tmp_path)
    with pytest.raises(TypeError, match=r"append must be a bool"):
        CSVLogger(tmp_path / "m.csv", append="no")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"folder this process can write to"):
        CSVLogger(blocker / "m.csv")


def test_one_row_per_epoch_with_the_exact_history(tmp_path, models, data):
    path = tmp_path / "logs" / "metrics.csv"
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(32)),
        batch_size=16,
        max_epoch=3,
        progress=False,
        seed=0,
        validation_dataset=TensorDataset(data.binary_images(8, seed=4)),
        callbacks=[CSVLogger(path)],
    )
    trainer.train()
    header, rows = read_rows(path)
    assert header == ["epoch", *trainer.metrics]
    assert len(rows) == 3
    for row, record in zip(rows, trainer.history.epochs, strict=True):
        assert int(row["epoch"]) == record["epoch"]
        for key in trainer.metrics:
            assert float(row[key]) == record[key]  # repr round-trips floats exactly


def test_resume_drops_rows_of_epochs_run_again(tmp_path, stand_in):
    path = tmp_path / "m.csv"
    trainer = stand_in()
    first = CSVLogger(path)
    for epoch in range(4):
        trainer.epoch, trainer.metrics = epoch, {"log_prob": -float(epoch)}
        first(trainer)
    resumed = CSVLogger(path)  # the run resumes from a checkpoint taken after epoch 1
    for epoch in (2, 3, 4):
        trainer.epoch, trainer.metrics = epoch, {"log_prob": 10.0 + epoch}
        resumed(trainer)
    _, rows = read_rows(path)
    assert [(row["epoch"], row["log_prob"]) for row in rows] == [
        ("0", "-0.0"),
        ("1", "-1.0"),
        ("2", "12.0"),
        ("3", "13.0"),
        ("4", "14.0"),
    ]


def test_new_metric_widens_the_header(tmp_path, stand_in):
    path = tmp_path / "m.csv"
    logger = CSVLogger(path)
    logger(stand_in(epoch=0, metrics={"log_prob": -1.0}))
    logger(stand_in(epoch=1, metrics={"log_prob": -0.5, "val_log_prob": -0.7}))
    header, rows = read_rows(path)
    assert header == ["epoch", "log_prob", "val_log_prob"]
    assert rows[0]["val_log_prob"] == ""
    assert rows[1]["val_log_prob"] == "-0.7"
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]  # no temporary files left


def test_append_false_replaces_and_foreign_files_are_refused(tmp_path, stand_in):
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n0,1.0\n")
    with pytest.raises(ValueError, match=r"'epoch' column.*\['step', 'loss'\].*append=False"):
        CSVLogger(path)(stand_in(epoch=0, metrics={"log_prob": -1.0}))
    CSVLogger(path, append=False)(stand_in(epoch=0, metrics={"log_prob": -1.0}))
    assert path.read_text() == "epoch,log_prob\n0,-1.0\n"


def test_non_main_process_writes_nothing(tmp_path, stand_in):
    path = tmp_path / "m.csv"
    CSVLogger(path)(stand_in(epoch=0, metrics={"log_prob": -1.0}, is_main_process=False))
    assert not path.exists()


def test_a_rewrite_syncs_the_file_and_its_folder(tmp_path, stand_in, monkeypatch):
    path = tmp_path / "m.csv"
    logger = CSVLogger(path)
    synced: list[bool] = []  # per fsync: was it a folder?
    real_fsync = os.fsync

    def recording_fsync(descriptor):
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    logger(stand_in(epoch=0, metrics={"log_prob": -1.0}))  # the first row: a rewrite
    assert synced == ([False, True] if os.name == "posix" else [False])
    assert read_rows(path)[0] == ["epoch", "log_prob"]

"""ModelCheckpoint: checks, best/last files, exact restore of the best epoch, safe loading."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch.utils.data import TensorDataset

from pygen.callbacks import EarlyStopping, ModelCheckpoint
from pygen.train import DistributionTrainer, UnsafeCheckpointError


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"mode must be one of 'auto', 'max', 'min'; got 'best'"):
        ModelCheckpoint(tmp_path, mode="best")
    with pytest.raises(ValueError, match=r"at least one of save_best, save_last"):
        ModelCheckpoint(tmp_path, save_best=False, save_last=False)
    with pytest.raises(ValueError, match=r"save_best=True needs a monitor"):
        ModelCheckpoint(tmp_path, monitor=None)
    with pytest.raises(ValueError, match=r"best_filename must be a plain file name.*'sub/best.pt'"):
        ModelCheckpoint(tmp_path, best_filename="sub/best.pt")
    with pytest.raises(ValueError, match=r"must differ; got both 'a.pt'"):
        ModelCheckpoint(tmp_path, best_filename="a.pt", last_filename="a.pt")
    with pytest.raises(TypeError, match=r"dirpath must be a str or os.PathLike; got int"):
        ModelCheckpoint(5)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"dirpath must be a folder this process can write to"):
        ModelCheckpoint(blocker / "checkpoints")
    with pytest.raises(TypeError, match=r"save_last must be a bool"):
        ModelCheckpoint(tmp_path, save_last="yes")


def test_val_monitor_without_validation_data_fails_before_training(tmp_path, models, data):
    trainer = DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(16)),
        batch_size=8,
        max_epoch=2,
        progress=False,
        callbacks=[ModelCheckpoint(tmp_path)],
    )
    with pytest.raises(ValueError, match=r"validation_dataset=None"):
        trainer.train()
    assert trainer.batch_num == 0


def test_missing_metric_lists_what_exists(tmp_path, stand_in):
    trainer = stand_in(epoch=0, metrics={"log_prob": -1.0}, trainable=torch.nn.Linear(1, 1))
    with pytest.raises(ValueError, match=r"monitor='val_accuracy' is not among.*\['log_prob'\]"):
        ModelCheckpoint(tmp_path, monitor="val_accuracy")(trainer)


def test_best_checkpoint_restores_the_best_epoch_exactly(tmp_path, models):
    """The validation metric improves for three epochs, then only worsens (overfitting)."""
    model = models.Gaussian(-2.0)
    snapshots = {}

    def snapshot(trainer):  # legacy epoch_end_callback: runs before the callbacks list
        snapshots[trainer.epoch] = copy.deepcopy(trainer.trainable.state_dict())

    checkpoint = ModelCheckpoint(tmp_path, save_last=True)
    stopper = EarlyStopping(patience=3)
    trainer = DistributionTrainer(
        model,
        TensorDataset(torch.tensor([1.0, 3.0])),
        batch_size=2,
        max_epoch=30,
        progress=False,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.2),
        validation_dataset=TensorDataset(torch.tensor([-1.0, 1.0])),
        epoch_end_callback=snapshot,
        callbacks=[stopper, checkpoint],  # ModelCheckpoint last
    )
    trainer.train()
    values = trainer.history.epoch_values("val_log_prob")
    assert len(values) == 6
    assert max(values) == values[2]
    assert (checkpoint.best_epoch, checkpoint.best_score) == (2, values[2])

    saved = ModelCheckpoint.load(checkpoint.best_model_path)
    assert saved["epoch"] == 2
    assert saved["monitor"] == "val_log_prob"
    assert saved["score"] == values[2]
    assert saved["metrics"] == {
        key: value for key, value in trainer.history.epochs[2].items() if key != "epoch"
    }
    assert "optimizer" in saved

    fresh = models.Gaussian(0.0)
    checkpoint.load_best(fresh)
    assert torch.equal(fresh.loc, snapshots[2]["loc"])
    assert not torch.equal(fresh.loc, model.loc)  # training went on past the best epoch

    last = ModelCheckpoint.load(checkpoint.last_model_path)
    assert last["epoch"] == 5
    assert torch.equal(last["model"]["loc"], model.loc.detach())


def test_state_round_trip(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path, monitor="val_bits_per_dim")
    assert checkpoint.mode == "min"
    checkpoint.best_score, checkpoint.best_epoch = 1.25, 4
    other = ModelCheckpoint(tmp_path, monitor="val_bits_per_dim")
    other.load_state_dict(checkpoint.state_dict())
    assert (other.best_score, other.best_epoch) == (1.25, 4)
    with pytest.raises(ValueError, match=r"saved for monitor='val_bits_per_dim'"):
        ModelCheckpoint(tmp_path).load_state_dict(checkpoint.state_dict())


def test_worse_score_after_resume_does_not_overwrite_the_best(tmp_path, stand_in):
    model = torch.nn.Linear(1, 1)
    checkpoint = ModelCheckpoint(tmp_path, monitor="log_prob")
    checkpoint.load_state_dict(
        {"monitor": "log_prob", "mode": "max", "best_score": -1.0, "best_epoch": 3}
    )
    checkpoint(stand_in(epoch=4, metrics={"log_prob": -2.0}, trainable=model, optimizer=None))
    assert not (tmp_path / "best.pt").exists()
    checkpoint(stand_in(epoch=5, metrics={"log_prob": -0.5}, trainable=model, optimizer=None))
    assert ModelCheckpoint.load(tmp_path / "best.pt")["epoch"] == 5


def test_loading_refuses_files_that_would_run_code(tmp_path):
    bad = tmp_path / "best.pt"
    bad.write_bytes(pickle.dumps(print, protocol=2))
    with pytest.raises(UnsafeCheckpointError):
        ModelCheckpoint.load(bad)
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"must be a ModelCheckpoint file.*\['weights'\]"):
        ModelCheckpoint.load(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match=r"no best checkpoint"):
        ModelCheckpoint(tmp_path / "empty").load_best(torch.nn.Linear(1, 1))


def test_non_main_process_writes_nothing_but_tracks_the_best(tmp_path, stand_in):
    checkpoint = ModelCheckpoint(tmp_path, monitor="log_prob", save_last=True)
    trainer = stand_in(
        epoch=0,
        metrics={"log_prob": -1.0},
        trainable=torch.nn.Linear(1, 1),
        optimizer=None,
        is_main_process=False,
    )
    checkpoint(trainer)
    assert checkpoint.best_epoch == 0
    assert [path.name for path in tmp_path.iterdir()] == []


def _trainer(tmp_path, models, data, **options):
    return DistributionTrainer(
        models.BernoulliImages(),
        TensorDataset(data.binary_images(16)),
        batch_size=8,
        max_epoch=2,
        progress=False,
        seed=0,
        **options,
    )


def test_a_file_shared_with_the_trainer_is_refused_at_construction(tmp_path, models, data):
    from pygen.callbacks import CSVLogger, callback_compose

    for filename, label in (("best.pt", "best_filename"), ("last.pt", "last_filename")):
        checkpoint = ModelCheckpoint(tmp_path, monitor="log_prob", save_last=True)
        with pytest.raises(
            ValueError,
            match=rf"DistributionTrainer checkpoint_path and ModelCheckpoint {label} both "
            rf"write .*{filename}",
        ):
            _trainer(
                tmp_path, models, data,
                checkpoint_path=tmp_path / filename, callbacks=[checkpoint],
            )  # fmt: skip
    checkpoint = ModelCheckpoint(tmp_path, monitor="log_prob")
    with pytest.raises(ValueError, match=r"model_path and ModelCheckpoint best_filename"):
        _trainer(tmp_path, models, data, model_path=tmp_path / "best.pt",
                 epoch_end_callback=checkpoint)  # fmt: skip
    with pytest.raises(ValueError, match=r"checkpoint_path and CSVLogger path both write"):
        _trainer(tmp_path, models, data, checkpoint_path=tmp_path / "log.csv",
                 callbacks=[CSVLogger(tmp_path / "log.csv")])  # fmt: skip
    composed = callback_compose([CSVLogger(tmp_path / "log.csv")])
    with pytest.raises(ValueError, match=r"checkpoint_path and ComposedCallback 0.path"):
        _trainer(tmp_path, models, data, checkpoint_path=tmp_path / "log.csv",
                 epoch_end_callback=composed)  # fmt: skip
    # last.pt unused without save_last: no clash
    _trainer(tmp_path, models, data, checkpoint_path=tmp_path / "last.pt",
             callbacks=[ModelCheckpoint(tmp_path, monitor="log_prob")])  # fmt: skip


def test_two_checkpoints_and_a_stopper_resume_by_state_key(tmp_path, models, data):
    def callbacks():
        return [
            ModelCheckpoint(tmp_path / "a", monitor="log_prob"),
            EarlyStopping(monitor="log_prob", patience=5),
            ModelCheckpoint(tmp_path / "b", monitor="bits_per_dim"),
        ]

    path = tmp_path / "run.pt"
    first = callbacks()
    _trainer(tmp_path, models, data, checkpoint_path=path, callbacks=first).train()
    from pygen.train import safe_load

    assert sorted(safe_load(path)["callbacks"]) == [
        "EarlyStopping[monitor=log_prob, mode=max]",
        "ModelCheckpoint[monitor=bits_per_dim, mode=min]",
        "ModelCheckpoint[monitor=log_prob, mode=max]",
    ]
    again = list(reversed(callbacks()))  # another order: each finds its own state
    _trainer(tmp_path, models, data, checkpoint_path=path, callbacks=again).train()
    assert again[0].best_score == first[2].best_score
    assert again[2].best_score == first[0].best_score

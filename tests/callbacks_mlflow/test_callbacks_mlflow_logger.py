"""MLflowLogger against a real SQLite MLflow store, read back with MLflow's own client.

Runs in ``nox -s tests-mlflow`` (which installs ``pygen-callbacks[mlflow]``); the other
sessions do not collect this folder. Importing mlflow and creating a store take seconds,
so there are few tests and each checks a lot.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

mlflow = pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402

from pygen.callbacks import MLflowLogger, TBImagesCallback  # noqa: E402
from pygen.train import DistributionTrainer  # noqa: E402


class Pixels(torch.nn.Module):
    """Independent Bernoulli pixels over 1x4x4 images: log_prob and sample."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(1, 4, 4))

    def _distribution(self) -> torch.distributions.Distribution:
        return torch.distributions.Independent(torch.distributions.Bernoulli(logits=self.logits), 3)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self._distribution().log_prob(x)

    def sample(self, shape: torch.Size) -> torch.Tensor:
        return self._distribution().sample(shape)


def _data() -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    images = (torch.rand(32, 1, 4, 4, generator=generator) < 0.3).float()
    return TensorDataset(images)


def _logger(store: Path) -> MLflowLogger:
    return MLflowLogger(
        f"sqlite:///{store / 'mlflow.db'}",
        "pixels",
        run_name="first",
        params={"note": "unit test"},
        tags={"purpose": "test"},
        artifact_location=str(store / "artifacts"),
        log_batch_metrics=True,
    )


def _trainer(logger: MLflowLogger, checkpoint: Path, max_epoch: int) -> DistributionTrainer:
    return DistributionTrainer(
        Pixels(),
        _data(),
        batch_size=8,
        max_epoch=max_epoch,
        validation_dataset=_data(),
        checkpoint_path=checkpoint,
        seed=0,
        progress=False,
        callbacks=[logger, TBImagesCallback(logger, "samples", num_samples=4, nrow=2)],
    )


def test_a_run_is_logged_and_a_resume_continues_it(tmp_path: Path) -> None:
    checkpoint = tmp_path / "trainer.ckpt"
    first = _logger(tmp_path)
    trainer = _trainer(first, checkpoint, max_epoch=2)
    trainer.train()
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("pixels")
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in runs] == [first.run_id]
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "first"
    assert run.data.tags["purpose"] == "test"
    params = run.data.params
    assert params["trainer"] == "DistributionTrainer"
    assert params["model"] == "Pixels"
    assert params["num_parameters"] == "16"
    assert params["objective"] == "log_prob"
    assert params["batch_size"] == "8"
    assert params["max_epoch"] == "2"
    assert params["optimizer"] == "Adam"
    assert params["lr"] == "0.001"
    assert params["seed"] == "0"
    assert params["dataset_size"] == params["validation_size"] == "32"
    assert params["note"] == "unit test"
    # The epoch metrics, under the trainer's names, at the epochs, equal to its history.
    history = trainer.history.epochs
    for name in ("log_prob", "bits_per_dim", "val_log_prob", "lr"):
        logged = client.get_metric_history(first.run_id, name)
        assert [m.step for m in logged] == [0, 1], name
        assert [m.value for m in logged] == pytest.approx([e[name] for e in history]), name
    # Batch metrics at the batch numbers: 4 batches of 8 per epoch.
    batch = client.get_metric_history(first.run_id, "batch/log_prob")
    assert [m.step for m in batch] == list(range(1, 9))
    # The image callback's grids, one per epoch, and the final checkpoint.
    artifacts = {a.path for a in client.list_artifacts(first.run_id, "checkpoints")}
    assert artifacts == {"checkpoints/model.pt", "checkpoints/trainer.ckpt"}
    weights = torch.load(
        client.download_artifacts(first.run_id, "checkpoints/model.pt", str(tmp_path)),
        weights_only=True,
    )
    assert torch.equal(weights["logits"], trainer.trainable.logits.detach())
    images = [a.path for a in client.list_artifacts(first.run_id, "images")]
    pngs = sorted(p for p in images if p.endswith(".png"))
    assert [p.split("+")[:3] for p in pngs] == [
        ["images/samples", "step", "0"],
        ["images/samples", "step", "1"],
    ]

    # Resume from the checkpoint with a new logger and a larger max_epoch: one run.
    second = _logger(tmp_path)
    resumed = _trainer(second, checkpoint, max_epoch=4)
    resumed.train()
    assert second.run_id == first.run_id
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["max_epoch"] == "2"  # MLflow parameters cannot change
    assert run.data.tags["pygen.resumed.max_epoch"] == "4"
    history = resumed.history.epochs
    assert len(history) == 4
    for name in ("log_prob", "val_log_prob"):
        logged = client.get_metric_history(first.run_id, name)
        assert [m.step for m in logged] == [0, 1, 2, 3], name
        assert [m.value for m in logged] == pytest.approx([e[name] for e in history]), name
    batch = client.get_metric_history(first.run_id, "batch/log_prob")
    assert [m.step for m in batch] == list(range(1, 17))
    images = [a.path for a in client.list_artifacts(first.run_id, "images")]
    assert sorted(int(p.split("+")[2]) for p in images if p.endswith(".png")) == [0, 1, 2, 3]

    # A checkpoint naming a run this store does not hold is refused, naming the run.
    stranger = _logger(tmp_path)
    stranger.load_state_dict({"run_id": "0" * 32})
    with pytest.raises(ValueError, match=r"continues MLflow run '0{32}'.*mlflow\.db"):
        stranger.on_train_start(trainer)


def test_arguments_docstring_and_missing_extra(
    tmp_path: Path, run_doctests, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TypeError, match=r"tracking_uri must be a str or None; got PosixPath"):
        MLflowLogger(tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"experiment_name must be a non-empty string"):
        MLflowLogger(None, "")
    with pytest.raises(TypeError, match=r"params must be a mapping .* got list"):
        MLflowLogger(None, params=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"prefix and batch_prefix must differ"):
        MLflowLogger(None, prefix="x", batch_prefix="x", log_batch_metrics=True)
    with pytest.raises(TypeError, match=r"log_checkpoint must be a bool; got int"):
        MLflowLogger(None, log_checkpoint=1)  # type: ignore[arg-type]
    logger = MLflowLogger(None)
    with pytest.raises(RuntimeError, match=r"add_image needs a run.*callbacks=\[\.\.\.\]"):
        logger.add_image("x", torch.zeros(3, 2, 2), 0)
    with pytest.raises(ValueError, match=r"\[C, H, W\] with C in \{1, 3\}; got shape \[2, 2\]"):
        logger.add_image("x", torch.zeros(2, 2), 0)
    assert logger.state_dict() == {"run_id": None}
    with pytest.raises(TypeError, match=r"run_id must be a str or None; got int"):
        logger.load_state_dict({"run_id": 3})

    # The docstring example logs a real run (the other sessions leave it out).
    assert run_doctests("pygen.callbacks.mlflow_logger") > 0

    # Without mlflow, MLflowLogger names the extra to install.
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what import finds for a missing module
    with pytest.raises(ImportError, match=r"pip install 'pygen-callbacks\[mlflow\]'"):
        MLflowLogger(f"sqlite:///{tmp_path / 'x.db'}")
    assert not (tmp_path / "x.db").exists()

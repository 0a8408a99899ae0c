"""Cross-argument checks (pygen.train._options): refused at construction, naming both."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import Callback, DistributionTrainer


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.loc, 1.0).log_prob(x)


class Writer(Callback):
    def __init__(self, path) -> None:
        self.path = path

    def __call__(self, trainer):
        pass

    def output_files(self):
        return {"path": Path(self.path)}


def build(**options):
    return DistributionTrainer(Gaussian(), TensorDataset(torch.randn(8)), 4, 1, **options)


def test_train_options_model_path_equal_to_checkpoint_path_is_refused(tmp_path, monkeypatch):
    with pytest.raises(
        ValueError, match=r"DistributionTrainer checkpoint_path and DistributionTrainer "
        r"model_path both write .*run\.pt"
    ):  # fmt: skip
        build(checkpoint_path=tmp_path / "run.pt", model_path=tmp_path / "run.pt")
    # the same file spelled differently is the same file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(ValueError, match="both write"):
        build(checkpoint_path="run.pt", model_path=tmp_path / "sub" / ".." / "run.pt")


def test_train_options_a_callback_writing_the_checkpoint_file_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    with pytest.raises(ValueError, match=r"checkpoint_path and Writer path both write"):
        build(checkpoint_path=path, callbacks=[Writer(path)])
    with pytest.raises(ValueError, match=r"model_path and Writer path both write"):
        build(model_path=path, epoch_end_callback=Writer(path))  # legacy hook too
    with pytest.raises(ValueError, match=r"Writer path and Writer path both write"):
        build(callbacks=[Writer(path), Writer(path)])
    build(checkpoint_path=path, model_path=tmp_path / "model.pt", callbacks=[Writer("x.csv")])


def test_train_options_checkpoint_path_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"checkpoint_path must be a file path, not a folder"):
        build(checkpoint_path=tmp_path)


def _unwritable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        tempfile.NamedTemporaryFile(dir=folder).close()
    except OSError:
        return folder
    # root writes anywhere chmod allows nothing: use a read-only file system instead
    for candidate in (Path("/sys"), Path("/proc/sys")):
        try:
            tempfile.NamedTemporaryFile(dir=candidate).close()
        except OSError:
            return candidate
    pytest.skip("no folder this process cannot write to")


def test_train_options_unwritable_checkpoint_folder_is_refused_at_construction(tmp_path):
    folder = _unwritable_folder(tmp_path)
    try:
        with pytest.raises(ValueError, match=r"checkpoint_path must be in a folder this "
                           r"process can write to; .* is not writable"):  # fmt: skip
            build(checkpoint_path=folder / "run.pt")
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o700)

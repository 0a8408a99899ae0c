"""ImageFolderWriter: checks, file names, PNGs read back, no temporary files left."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch
from PIL import Image

from pygen.callbacks import ImageFolderWriter


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"folder must be a str or os.PathLike; got int"):
        ImageFolderWriter(3)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"folder this process can write to"):
        ImageFolderWriter(blocker)
    writer = ImageFolderWriter(tmp_path / "new" / "nested")
    assert (tmp_path / "new" / "nested").is_dir()
    with pytest.raises(TypeError, match=r"image must be a torch.Tensor; got ndarray"):
        writer.write("x", np.zeros((3, 4, 4)), 0)
    with pytest.raises(ValueError, match=r"\[C, H, W\] with C in \{1, 3\}; got shape \[2, 4, 4\]"):
        writer.write("x", torch.zeros(2, 4, 4), 0)


def test_names_are_sanitised(tmp_path):
    writer = ImageFolderWriter(tmp_path)
    assert writer.path_for("train/samples grid", 12).name == "train_samples_grid_0012.png"
    assert writer.path_for("///", 1).name == "image_0001.png"


@pytest.mark.parametrize("channels", [1, 3])
def test_png_round_trip(tmp_path, channels):
    writer = ImageFolderWriter(tmp_path)
    image = torch.rand(channels, 6, 9)
    path = writer.write("grid", image, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid_0003.png"]
    with Image.open(path) as png:
        assert png.size == (9, 6)
        pixels = np.asarray(png, dtype=np.float64)
    assert pixels.std() > 0
    expected = (image.clamp(0, 1) * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy()
    if channels == 1:
        assert np.array_equal(pixels.reshape(6, 9, -1)[..., 0], expected[0])
    else:
        assert np.array_equal(pixels, expected.transpose(1, 2, 0))


def test_a_write_syncs_the_file_and_its_folder(tmp_path, monkeypatch):
    writer = ImageFolderWriter(tmp_path)
    synced: list[bool] = []  # per fsync: was it a folder?
    real_fsync = os.fsync

    def recording_fsync(descriptor):
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    path = writer.write("grid", torch.zeros(1, 4, 4), step=3)
    assert synced == ([False, True] if os.name == "posix" else [False])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert Image.open(path).size == (4, 4)

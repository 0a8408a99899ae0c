"""tests/check_dists.py: the release's wheel and sdist checks catch what they promise."""

from __future__ import annotations

import importlib.util
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_check_dists() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pygen_check_dists", ROOT / "tests" / "check_dists.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_dists = load_check_dists()


def write_wheel(path: Path, members: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in members.items():
            wheel.writestr(name, text)
    return path


def write_sdist(path: Path, members: dict[str, str]) -> Path:
    source = path.parent / "source"
    for name, text in members.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    with tarfile.open(path, "w:gz") as archive:
        archive.add(source, arcname="pygen_train-0.1.0")
    return path


WHEEL = {
    "pygen/train/__init__.py": "x = 1\n",
    "pygen/train/py.typed": "",
    "pygen_train-0.1.0.dist-info/METADATA": "Name: pygen-train\n",
    "pygen_train-0.1.0.dist-info/RECORD": "one\n",
}


def test_identical_wheels_compare_equal(tmp_path: Path) -> None:
    a = write_wheel(tmp_path / "a" / "w.whl", WHEEL)
    b = write_wheel(tmp_path / "b" / "w.whl", WHEEL)
    assert check_dists.compare_wheels(a, b) == []


def test_a_file_the_sdist_missed_is_named(tmp_path: Path) -> None:
    rebuilt = dict(WHEEL)
    del rebuilt["pygen/train/py.typed"]
    rebuilt["pygen_train-0.1.0.dist-info/RECORD"] = "two\n"
    a = write_wheel(tmp_path / "a" / "w.whl", rebuilt)
    b = write_wheel(tmp_path / "b" / "w.whl", WHEEL)
    problems = check_dists.compare_wheels(a, b)
    assert problems == [
        "w.whl built from its sdist lacks pygen/train/py.typed: add it to the sdist's include"
    ]


def test_changed_contents_are_named(tmp_path: Path) -> None:
    a = write_wheel(tmp_path / "a" / "w.whl", {**WHEEL, "pygen/train/__init__.py": "x = 2\n"})
    b = write_wheel(tmp_path / "b" / "w.whl", WHEEL)
    (problem,) = check_dists.compare_wheels(a, b)
    assert "pygen/train/__init__.py differs" in problem


def test_main_fails_on_a_foreign_file_and_a_missing_sdist_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = tmp_path / "dist"
    write_wheel(dist / "pygen_train-0.1.0-py3-none-any.whl", {**WHEEL, "pygen/layers/x.py": ""})
    write_sdist(dist / "pygen_train-0.1.0.tar.gz", {"pyproject.toml": "", "README.md": "",
                                                    "src/pygen/train/__init__.py": ""})  # fmt: skip
    assert check_dists.main([str(dist), "train"]) == 1
    report = capsys.readouterr().out
    assert "holds pygen/layers/x.py, outside pygen/train/" in report
    assert "pygen_train-0.1.0.tar.gz: lacks LICENSE" in report

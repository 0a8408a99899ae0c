"""The release's version rules (tools/versions.py): lockstep versions, exact pins, changelog.

Each test works on a copy of the four pyproject files and CHANGELOG.md, so the real tree
is never edited.
"""

from __future__ import annotations

import datetime
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("distributions", "layers", "train", "callbacks")


def load_versions() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pygen_tools_versions", ROOT / "tools" / "versions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


versions = load_versions()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        target = tmp_path / "packages" / f"pygen-{package}"
        target.mkdir(parents=True)
        shutil.copy(ROOT / "packages" / f"pygen-{package}" / "pyproject.toml", target)
    shutil.copy(ROOT / "CHANGELOG.md", tmp_path)
    return tmp_path


def pyproject(tree: Path, package: str) -> Path:
    return tree / "packages" / f"pygen-{package}" / "pyproject.toml"


def current_version() -> str:
    return versions.read_project(ROOT, "distributions")["version"]


def test_the_repository_itself_is_releasable() -> None:
    assert versions.problems(ROOT) == []


def test_one_package_changing_its_version_alone_is_refused(tree: Path) -> None:
    path = pyproject(tree, "train")
    path.write_text(
        path.read_text().replace(f'version = "{current_version()}"', 'version = "9.9.9"')
    )
    found = versions.problems(tree)
    assert any("the four versions differ" in problem and "pygen-train 9.9.9" in problem
               for problem in found), found  # fmt: skip
    assert any("nox -s bump -- X.Y.Z" in problem for problem in found)
    # pygen-callbacks still pins the old pygen-train: both the pin and the version are named.
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "versions.py"), "--root", str(tree), "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "release refused" in result.stdout
    assert "pygen-train 9.9.9" in result.stdout


def test_a_loose_sibling_pin_is_refused(tree: Path) -> None:
    path = pyproject(tree, "layers")
    version = current_version()
    path.write_text(path.read_text().replace(f'"pygen-distributions=={version}"',
                                             f'"pygen-distributions>={version}"'))  # fmt: skip
    found = versions.problems(tree)
    assert len(found) == 1
    assert f"'pygen-distributions>={version}'" in found[0]
    assert f"'pygen-distributions=={version}'" in found[0]


def test_a_version_without_changelog_entry_is_refused(tree: Path) -> None:
    changelog = tree / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(f"## [{current_version()}]", "## [0.0.1]"))
    found = versions.problems(tree)
    assert len(found) == 1
    assert f"CHANGELOG.md has no entry for {current_version()}" in found[0]


def test_bump_sets_every_version_and_pin_and_dates_the_unreleased_entry(tree: Path) -> None:
    changed = versions.bump(tree, "0.2.0", today=datetime.date(2027, 1, 2))
    assert len(changed) == 5
    assert versions.problems(tree) == []
    for package in PACKAGES:
        project = versions.read_project(tree, package)
        assert project["version"] == "0.2.0"
        pins = [r for r in project["dependencies"] if r.startswith("pygen-")]
        assert all(pin.endswith("==0.2.0") for pin in pins), pins
    text = (tree / "CHANGELOG.md").read_text()
    assert text.index("## [Unreleased]") < text.index("## [0.2.0] - 2027-01-02")
    assert versions.changelog_versions(tree)[:2] == ["0.2.0", current_version()]
    # Bumping again to the same version changes nothing.
    assert versions.bump(tree, "0.2.0") == []


def test_bump_refuses_a_malformed_version(tree: Path) -> None:
    with pytest.raises(ValueError, match=r"X\.Y\.Z.*'v1'"):
        versions.bump(tree, "v1")

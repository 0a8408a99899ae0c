"""Repository-level checks of the four packages' metadata and layout.

These read the source tree (not the installed packages), so they run once, in the
all-packages sessions, where every import they resolve is installed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("distributions", "layers", "train", "callbacks")
ALLOWED_PYGEN_ARROWS = {"layers": {"distributions"}, "callbacks": {"train"}}


def pyproject(name: str) -> dict:
    with open(ROOT / "packages" / f"pygen-{name}" / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def hard_imports(source: Path) -> set[str]:
    """Top-level module names a file imports, except imports guarded by ImportError."""
    tree = ast.parse(source.read_text(), filename=str(source))
    optional: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            caught = {
                ast.unparse(handler.type) for handler in node.handlers if handler.type is not None
            }
            if caught & {"ImportError", "ModuleNotFoundError"}:
                optional.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    names = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", PACKAGES)
def test_layout_is_a_pep420_namespace_member(name: str) -> None:
    package = ROOT / "packages" / f"pygen-{name}"
    assert not (package / "src" / "pygen" / "__init__.py").exists()
    for required in ("README.md", "LICENSE", f"src/pygen/{name}/__init__.py",
                     f"src/pygen/{name}/py.typed"):  # fmt: skip
        assert (package / required).is_file(), f"pygen-{name} lacks {required}"
    assert pyproject(name)["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/pygen"
    ]


def test_versions_are_lockstep_and_siblings_pinned_exactly() -> None:
    versions = {name: pyproject(name)["project"]["version"] for name in PACKAGES}
    assert len(set(versions.values())) == 1, f"versions differ: {versions}"
    version = versions["distributions"]
    for name in PACKAGES:
        for requirement in pyproject(name)["project"]["dependencies"]:
            if requirement.startswith("pygen-"):
                assert requirement == f"{requirement_name(requirement)}=={version}", (
                    f"pygen-{name} must pin its sibling exactly, found {requirement!r}"
                )


@pytest.mark.parametrize("name", PACKAGES)
def test_every_import_is_declared(name: str) -> None:
    declared = {requirement_name(r) for r in pyproject(name)["project"]["dependencies"]}
    module_to_dists = importlib.metadata.packages_distributions()
    source_root = ROOT / "packages" / f"pygen-{name}" / "src"
    missing = []
    for source in sorted(source_root.rglob("*.py")):
        for module in hard_imports(source):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if top == "pygen":
                sibling = module.split(".")[1]
                if sibling != name:
                    assert sibling in ALLOWED_PYGEN_ARROWS.get(name, set()), (
                        f"{source.relative_to(ROOT)} imports pygen.{sibling}: pygen-{name} "
                        f"may depend on {sorted(ALLOWED_PYGEN_ARROWS.get(name, set()))} only"
                    )
                    if f"pygen-{sibling}" not in declared:
                        missing.append(f"{source.name}: pygen-{sibling}")
                continue
            dists = {d.lower().replace("_", "-") for d in module_to_dists.get(top, [top])}
            if not dists & declared:
                missing.append(f"{source.name}: {module} (from {sorted(dists)})")
    assert not missing, f"pygen-{name} imports what it does not declare: {missing}"


def all_imports(source: Path) -> set[str]:
    """Every module name a file imports at level 0, guarded or not."""
    names = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


# Guarded imports that are no extra: used when the user has them (seeding.py saves numpy's
# random state only where numpy is installed).
USED_IF_PRESENT = {"train": {"numpy"}}


@pytest.mark.parametrize("name", PACKAGES)
def test_every_optional_import_is_a_declared_extra(name: str) -> None:
    """An import guarded by ImportError names a package of one of the package's extras."""
    extras = pyproject(name)["project"].get("optional-dependencies", {})
    declared = {requirement_name(r) for group in extras.values() for r in group}
    source_root = ROOT / "packages" / f"pygen-{name}" / "src"
    missing = []
    for source in sorted(source_root.rglob("*.py")):
        for module in all_imports(source) - hard_imports(source):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "pygen":
                continue
            if top in USED_IF_PRESENT.get(name, set()):
                continue
            if top.replace("_", "-") not in declared:
                missing.append(f"{source.name}: {module}")
    assert not missing, f"pygen-{name} imports optionally what no extra declares: {missing}"
    if name == "callbacks":
        assert [requirement_name(r) for r in extras.get("mlflow", [])] == ["mlflow"]

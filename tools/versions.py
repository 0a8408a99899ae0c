"""The lockstep version of the four pygen packages: check it, and bump it in one go.

The four packages share one version, pin each other exactly (``pygen-train==0.1.0``),
and each released version has its entry in ``CHANGELOG.md`` (Keep a Changelog). nox
runs this file; it needs only the standard library (and ``tomli`` on Python 3.10).

    python tools/versions.py [--root ROOT] check        # what nox -s release checks first
    python tools/versions.py [--root ROOT] bump X.Y.Z   # what nox -s bump -- X.Y.Z does

``check`` prints every problem with what to do about it and exits 1; ``bump`` sets the
version and the sibling pins in the four ``pyproject.toml`` files and, when the changelog
has no entry for the new version yet, turns its ``[Unreleased]`` section into that entry.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

PACKAGES = ("distributions", "layers", "train", "callbacks")
VERSION = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?$")
# `version = "..."` at the start of a line of a pyproject.toml, and an exact sibling pin.
VERSION_LINE = re.compile(r'^version = "[^"]*"$', re.MULTILINE)
SIBLING_PIN = re.compile(r'"(pygen-[a-z]+)\s*[=<>!~]=?[^";]*"')
UNRELEASED = "## [Unreleased]"


def pyproject_path(root: Path, package: str) -> Path:
    return root / "packages" / f"pygen-{package}" / "pyproject.toml"


def read_project(root: Path, package: str) -> dict:
    with open(pyproject_path(root, package), "rb") as file:
        return tomllib.load(file)["project"]


def changelog_versions(root: Path) -> list[str]:
    """The versions that have a ``## [X.Y.Z]`` heading in CHANGELOG.md, newest first."""
    path = root / "CHANGELOG.md"
    if not path.is_file():
        return []
    return re.findall(r"^## \[(\d[^\]]*)\]", path.read_text(), flags=re.MULTILINE)


def problems(root: Path) -> list[str]:
    """Everything that stops a release of the tree at ``root``, each with its fix."""
    found = []
    versions = {package: read_project(root, package)["version"] for package in PACKAGES}
    distinct = sorted(set(versions.values()))
    if len(distinct) != 1:
        listing = ", ".join(f"pygen-{p} {v}" for p, v in versions.items())
        found.append(
            f"the four versions differ ({listing}); they are released in lockstep: "
            f"run `nox -s bump -- X.Y.Z` to set one version everywhere"
        )
    version = versions["distributions"]
    for package in PACKAGES:
        for requirement in read_project(root, package)["dependencies"]:
            if not requirement.startswith("pygen-"):
                continue
            sibling = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
            if requirement != f"{sibling}=={version}":
                found.append(
                    f"pygen-{package} requires {requirement!r}, expected the exact pin "
                    f"'{sibling}=={version}': run `nox -s bump -- {version}`"
                )
    if version not in changelog_versions(root):
        found.append(
            f"CHANGELOG.md has no entry for {version}: add a '## [{version}] - YYYY-MM-DD' "
            f"section saying what changed (or run `nox -s bump -- {version}`, which turns "
            f"the '{UNRELEASED}' section into it)"
        )
    return found


def bump(root: Path, version: str, today: datetime.date | None = None) -> list[Path]:
    """Set ``version`` and the exact sibling pins in all four packages; return what changed."""
    if not VERSION.match(version):
        raise ValueError(f"version must look like X.Y.Z (or X.Y.ZrcN), got {version!r}")
    changed = []
    for package in PACKAGES:
        path = pyproject_path(root, package)
        text = path.read_text()
        if len(VERSION_LINE.findall(text)) != 1:
            raise ValueError(f"{path}: expected exactly one 'version = \"...\"' line")
        new = VERSION_LINE.sub(f'version = "{version}"', text)
        new = SIBLING_PIN.sub(lambda m: f'"{m.group(1)}=={version}"', new)
        if new != text:
            path.write_text(new)
            changed.append(path)
    changelog = root / "CHANGELOG.md"
    if changelog.is_file() and version not in changelog_versions(root):
        text = changelog.read_text()
        if UNRELEASED in text:
            date = (today or datetime.date.today()).isoformat()
            text = text.replace(UNRELEASED, f"{UNRELEASED}\n\n## [{version}] - {date}", 1)
            changelog.write_text(text)
            changed.append(changelog)
    return changed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="refuse unless versions, pins and changelog agree")
    bump_parser = commands.add_parser("bump", help="set one version in all four packages")
    bump_parser.add_argument("version")
    args = parser.parse_args(argv)
    if args.command == "bump":
        try:
            changed = bump(args.root, args.version)
        except ValueError as error:
            print(f"bump refused: {error}")
            return 2
        for path in changed:
            print(f"updated {path.relative_to(args.root)}")
    found = problems(args.root)
    if found:
        print("release refused:\n  - " + "\n  - ".join(found))
        return 1
    version = read_project(args.root, "distributions")["version"]
    print(f"pygen {version}: four versions and sibling pins agree; CHANGELOG.md has its entry")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

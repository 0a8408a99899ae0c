"""Prove that a test environment holds exactly the pygen packages it should.

Usage: ``python tests/check_environment.py distributions layers [--from-wheels]``

For each of the four packages, the named ones must be installed (as distributions, with
their metadata) and importable; the others must be neither. ``--from-wheels`` also checks
that each present package was installed as a wheel, not from a source folder.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys

PACKAGES = ("distributions", "layers", "train", "callbacks")


def main(argv: list[str]) -> int:
    from_wheels = "--from-wheels" in argv
    expected = {name for name in argv if not name.startswith("--")}
    unknown = expected - set(PACKAGES)
    if unknown:
        print(f"unknown package names {sorted(unknown)}; expected some of {PACKAGES}")
        return 2
    problems = []
    for name in PACKAGES:
        try:
            dist = importlib.metadata.distribution(f"pygen-{name}")
        except importlib.metadata.PackageNotFoundError:
            dist = None
        try:
            importlib.import_module(f"pygen.{name}")
            importable = True
        except ImportError:
            importable = False
        present = name in expected
        if present and (dist is None or not importable):
            problems.append(
                f"pygen-{name} should be installed and importable, found "
                f"installed={dist is not None}, importable={importable}"
            )
        if not present and (dist is not None or importable):
            problems.append(
                f"pygen-{name} should be absent, found "
                f"installed={dist is not None}, importable={importable}"
            )
        if present and dist is not None and from_wheels:
            direct_url = dist.read_text("direct_url.json")
            if direct_url and "dir_info" in json.loads(direct_url):
                problems.append(f"pygen-{name} was installed from a folder, not a wheel")
    namespace = importlib.import_module("pygen") if expected else None
    if namespace is not None and getattr(namespace, "__file__", None) is not None:
        problems.append(f"pygen must be a namespace package, found {namespace.__file__}")
    if problems:
        print("environment check failed:\n  " + "\n  ".join(problems))
        return 1
    absent = sorted(set(PACKAGES) - expected)
    print(f"environment holds pygen {sorted(expected)}; absent and not importable: {absent}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

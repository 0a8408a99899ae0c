"""Check that the lowest-versions session really installed each declared floor.

Usage: ``python tests/check_floors.py packages/*/pyproject.toml``

For every dependency declared as ``name>=X`` in the given pyproject files, the installed
version of ``name`` must be exactly ``X``: otherwise the session did not test the floor
it claims to.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys

import tomllib

FLOOR = re.compile(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)")


def normalise(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version.split("+")[0])
    numbers = [int(p) for p in parts]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def main(paths: list[str]) -> int:
    problems, checked = [], {}
    for path in paths:
        with open(path, "rb") as file:
            dependencies = tomllib.load(file)["project"]["dependencies"]
        for requirement in dependencies:
            match = FLOOR.match(requirement)
            if match:
                checked[match.group(1)] = match.group(2)
    for name, floor in sorted(checked.items()):
        installed = importlib.metadata.version(name)
        status = "ok" if normalise(installed) == normalise(floor) else "NOT THE FLOOR"
        print(f"{name:12} declared >= {floor:8} installed {installed:14} {status}")
        if status != "ok":
            problems.append(name)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Check built wheels and sdists hold exactly their own package.

Usage: ``python tests/check_dists.py DIST_FOLDER distributions layers train callbacks``

hatchling silently ignores a ``packages`` entry that does not exist, so a wrong path
gives an empty wheel; and a stray ``pygen/__init__.py`` would break the shared namespace
for every other package. Both are checked here.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path


def check_wheel(path: Path, name: str) -> list[str]:
    problems = []
    members = zipfile.ZipFile(path).namelist()
    own = f"pygen/{name}/"
    for member in members:
        if not (member.startswith(own) or member.split("/")[0].endswith(".dist-info")):
            problems.append(f"{path.name}: holds {member}, outside {own}")
    for required in (f"{own}__init__.py", f"{own}py.typed"):
        if required not in members:
            problems.append(f"{path.name}: lacks {required}")
    if "pygen/__init__.py" in members:
        problems.append(f"{path.name}: holds pygen/__init__.py; pygen is a PEP 420 namespace")
    return problems


def check_sdist(path: Path, name: str) -> list[str]:
    problems = []
    with tarfile.open(path) as archive:
        members = [m.split("/", 1)[1] for m in archive.getnames() if "/" in m]
    for required in ("pyproject.toml", "README.md", "LICENSE", f"src/pygen/{name}/__init__.py"):
        if required not in members:
            problems.append(f"{path.name}: lacks {required}")
    for member in members:
        if member.startswith("src/") and not member.startswith(f"src/pygen/{name}/"):
            problems.append(f"{path.name}: holds {member}, outside src/pygen/{name}/")
    return problems


def main(argv: list[str]) -> int:
    dist, names = Path(argv[0]), argv[1:]
    problems = []
    for name in names:
        wheels = sorted(dist.glob(f"pygen_{name}-*.whl"))
        sdists = sorted(dist.glob(f"pygen_{name}-*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            problems.append(
                f"pygen-{name}: expected one wheel and one sdist in {dist}, "
                f"found {[p.name for p in wheels + sdists]}"
            )
            continue
        problems += check_wheel(wheels[0], name) + check_sdist(sdists[0], name)
        print(f"pygen-{name}: {wheels[0].name} and {sdists[0].name} hold only pygen/{name}/")
    if problems:
        print("distribution check failed:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

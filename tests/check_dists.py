"""Check built wheels and sdists hold exactly their own package.

Usage: ``python tests/check_dists.py DIST_FOLDER distributions layers ... [--same-wheels OTHER]``

hatchling silently ignores a ``packages`` entry that does not exist, so a wrong path
gives an empty wheel; and a stray ``pygen/__init__.py`` would break the shared namespace
for every other package. Both are checked here. With ``--same-wheels OTHER`` each wheel
of DIST_FOLDER (built from its sdist) must hold the same files, byte for byte, as the
wheel of the same name in OTHER (built from the source folder): an sdist that misses a
file the wheel needs fails here.
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


def compare_wheels(rebuilt: Path, reference: Path) -> list[str]:
    """The differences between two wheels' files (names and contents), as messages."""
    with zipfile.ZipFile(rebuilt) as a, zipfile.ZipFile(reference) as b:
        ours = {name: a.read(name) for name in a.namelist()}
        theirs = {name: b.read(name) for name in b.namelist()}
    problems = [
        f"{rebuilt.name} built from its sdist lacks {name}: add it to the sdist's include"
        for name in sorted(set(theirs) - set(ours))
    ]
    problems += [
        f"{rebuilt.name} built from its sdist holds {name}, which the wheel built from the "
        f"folder does not"
        for name in sorted(set(ours) - set(theirs))
    ]
    problems += [
        f"{rebuilt.name}: {name} differs between the wheel built from the sdist and the one "
        f"built from the folder"
        for name in sorted(set(ours) & set(theirs))
        if ours[name] != theirs[name] and not name.endswith(".dist-info/RECORD")
    ]
    return problems


def main(argv: list[str]) -> int:
    reference = None
    if "--same-wheels" in argv:
        at = argv.index("--same-wheels")
        reference = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
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
        if reference is not None:
            if not (reference / wheels[0].name).is_file():
                problems.append(f"{reference} has no {wheels[0].name} to compare with")
                continue
            differences = compare_wheels(wheels[0], reference / wheels[0].name)
            problems += differences
            if not differences:
                print(f"pygen-{name}: the wheel rebuilt from the sdist equals the folder's")
    if problems:
        print("distribution check failed:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

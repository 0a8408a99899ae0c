"""Run nox on a machine that has only Python: ``python noxw.py ARGS...`` is ``nox ARGS...``.

The first run makes a private virtual environment in ``.noxw/`` (git-ignored) and installs
nox with uv into it; later runs reuse it, and reinstall only when ``REQUIREMENT`` below
changes. Every argument goes to nox unchanged:

    python noxw.py -s demo      # the demo
    python noxw.py -t matrix    # the whole test matrix (what CI runs)
    python noxw.py -l           # the sessions

Only the standard library is used here, so nothing needs installing before it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

REQUIREMENT = "nox[uv]>=2025.2.9"
ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".noxw"


def env_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return ENV / scripts / ("python.exe" if os.name == "nt" else "python")


def ensure_nox() -> Path:
    """The interpreter of ``.noxw/``, with ``REQUIREMENT`` installed in it."""
    python, stamp = env_python(), ENV / "requirement.txt"
    if python.exists() and stamp.is_file() and stamp.read_text() == REQUIREMENT:
        return python
    print(f"noxw: installing {REQUIREMENT} into {ENV}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(ENV)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         REQUIREMENT],
        check=True,
    )  # fmt: skip
    stamp.write_text(REQUIREMENT)
    return python


def main() -> int:
    python = ensure_nox()
    command = [str(python), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *sys.argv[1:]]
    # Sessions call uv themselves (to build and to make throw-away environments): put the
    # uv that came with nox on PATH, after whatever the machine already has.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([env.get("PATH", ""), str(python.parent)])
    return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

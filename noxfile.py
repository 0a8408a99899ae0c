"""The pygen test matrix: every installable combination of the four packages.

pygen ships four distributions (see ``../shared/design/ARCHITECTURE.md``). A user may
install any selection of them; with their dependency closures the 15 selections collapse
to the eight environments in ``ENVIRONMENTS``. Each gets its own session, installs only
those packages from their local folders into a fresh uv environment, proves the other
packages are absent, and runs the tests of the packages present plus the integration
tests whose packages are all present. Test selection is by folder, never by skipping.

    nox -t matrix          # the combinations, Pythons, floors, lint, build, docs (CI runs it)
    nox -s tests-D         # one combination
    nox -s tests-mlflow    # MLflowLogger, with the mlflow extra of pygen-callbacks
    nox -s demo            # the README demo
    nox -s bench           # the benchmarks, one table of ratios
    nox -s results         # the README's Results: real training on Fashion-MNIST
    nox -s docs            # the documentation site, warnings as errors
    nox -s bump -- X.Y.Z   # set one version and the sibling pins in all four packages
    nox -s release         # build, rebuild from sdists, test the matrix on those files
    nox -l                 # list the sessions

The test sessions install pygen from the source folders, or, when ``PYGEN_DIST`` names a
folder of built wheels (the release session sets it), from exactly those wheel files: the
same session code tests either.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests-all"]

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

# Each package and the pygen packages it depends on (the arrows of ARCHITECTURE.md).
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "distributions": (),
    "layers": ("distributions",),
    "train": (),
    "callbacks": ("train",),
}
PACKAGES = tuple(DEPENDS_ON)

# The combination table of ARCHITECTURE.md: session suffix -> what the user installs.
ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "D": ("distributions",),
    "L": ("layers",),
    "T": ("train",),
    "C": ("callbacks",),
    "DT": ("distributions", "train"),
    "LT": ("layers", "train"),
    "DC": ("distributions", "callbacks"),
    "all": ("layers", "callbacks"),
}

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# The lowest declared floors must hold together on one interpreter that every floor
# supports (torch 2.4 has no wheels for 3.13).
LOWEST_PYTHON = "3.11"
# Sphinx 9 needs Python 3.11 or newer.
DOCS_PYTHON = "3.11"


def closure(selection: tuple[str, ...] | set[str]) -> set[str]:
    """The packages that installing ``selection`` brings in."""
    result: set[str] = set()
    pending = list(selection)
    while pending:
        package = pending.pop()
        if package not in result:
            result.add(package)
            pending.extend(DEPENDS_ON[package])
    return result


def package_dir(package: str) -> Path:
    return ROOT / "packages" / f"pygen-{package}"


PACKAGE_PYPROJECTS = [package_dir(package) / "pyproject.toml" for package in PACKAGES]


def test_folders(installed: set[str]) -> list[str]:
    """The test folders that run where exactly ``installed`` is present.

    ``tests/<package>/`` runs wherever its package is installed;
    ``tests/integration/<a>_<b>/`` needs packages ``a`` and ``b`` and their dependencies.
    """
    folders = [f"tests/{package}" for package in PACKAGES if package in installed]
    for folder in sorted((ROOT / "tests" / "integration").iterdir()):
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        needs = closure(tuple(folder.name.split("_")))
        if needs <= installed:
            folders.append(f"tests/integration/{folder.name}")
    return folders


def expose_pyenv_pythons() -> list[str]:
    """Make pyenv-installed interpreters findable; return the supported ones present.

    pyenv keeps each version in its own folder and its shims only answer for the active
    version, so ``python3.12`` is not on PATH even when 3.12 is installed. Appending
    those folders to the *end* of PATH exposes ``python3.X`` without changing which
    ``python`` runs.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    extra = []
    for version in SUPPORTED_PYTHONS:
        for candidate in sorted((pyenv_root / "versions").glob(f"{version}.*/bin")):
            if (candidate / f"python{version}").exists():
                extra.append(str(candidate))
                break
    if extra:
        os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *extra])
    return [v for v in SUPPORTED_PYTHONS if shutil.which(f"python{v}")]


INSTALLED_PYTHONS = expose_pyenv_pythons()


# Set to a folder of built wheels, the test sessions install those instead of the folders.
DIST_VARIABLE = "PYGEN_DIST"


def installed_from_dist() -> Path | None:
    """The folder of wheels the test sessions install pygen from, or None for the folders."""
    dist = os.environ.get(DIST_VARIABLE)
    return Path(dist).resolve() if dist else None


def wheel_file(dist: Path, package: str) -> Path:
    wheels = sorted(dist.glob(f"pygen_{package}-*.whl"))
    if len(wheels) != 1:
        raise FileNotFoundError(
            f"expected one pygen_{package}-*.whl in {dist} ({DIST_VARIABLE}), "
            f"found {[wheel.name for wheel in wheels]}"
        )
    return wheels[0]


def pygen_sources(installed: set[str], extras: dict[str, str] | None = None) -> list[str]:
    """What to hand the installer for ``installed``: source folders, or the wheel files.

    ``extras`` maps a package to the optional extra to install with it, e.g.
    ``{"callbacks": "mlflow"}`` for ``pygen-callbacks[mlflow]``.
    """
    extras = extras or {}
    dist = installed_from_dist()
    sources = {
        package: str(package_dir(package) if dist is None else wheel_file(dist, package))
        for package in installed
    }
    return [
        sources[package] + (f"[{extras[package]}]" if package in extras else "")
        for package in sorted(installed)
    ]


def third_party_requirements(installed: set[str]) -> list[str]:
    """The non-pygen requirements the built wheels of ``installed`` declare (Requires-Dist)."""
    dist = installed_from_dist()
    assert dist is not None, "only meaningful when installing from built wheels"
    requirements = set()
    for package in installed:
        with zipfile.ZipFile(wheel_file(dist, package)) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            metadata = email.parser.Parser().parsestr(wheel.read(name).decode())
        requires = metadata.get_all("Requires-Dist") or []
        requirements.update(r for r in requires if not r.startswith("pygen-"))
    return sorted(requirements)


def install_pygen(
    session: nox.Session, installed: set[str], *extra: str, extras: dict[str, str] | None = None
) -> None:
    """Install the given pygen packages (folders or wheels), plus ``extra`` requirements.

    ``extras``: the optional extras of the pygen packages, as :func:`pygen_sources` takes.
    """
    # Let every interpreter of the session reuse the bytecode the first one compiled:
    # uv installs torch without .pyc files, and with PYTHONDONTWRITEBYTECODE set each
    # test worker and subprocess would compile torch's sources again (seconds each).
    session.env["PYTHONDONTWRITEBYTECODE"] = None
    session.install(*extra, *pygen_sources(installed, extras))


def check_environment(session: nox.Session, installed: set[str]) -> None:
    """Fail unless exactly ``installed`` of the four packages import and are installed.

    When installing from built wheels, also fail if any came from a folder instead.
    """
    from_wheels = ["--from-wheels"] if installed_from_dist() is not None else []
    session.run(
        "python", str(ROOT / "tests" / "check_environment.py"), *sorted(installed), *from_wheels
    )


def run_matrix_cell(session: nox.Session, selection: tuple[str, ...], *extra: str) -> None:
    installed = closure(selection)
    install_pygen(session, installed, *extra, *nox.project.dependency_groups(PYPROJECT, "test"))
    check_environment(session, installed)
    session.run(
        "pytest",
        "-n",
        os.environ.get("PYGEN_TEST_WORKERS", "auto"),
        "-p",
        "no:cacheprovider",
        *test_folders(installed),
        *session.posargs,
    )


def _make_combination_session(name: str, selection: tuple[str, ...]) -> None:
    def combination(session: nox.Session) -> None:
        run_matrix_cell(session, selection)

    combination.__doc__ = f"Test the {name} environment: {' + '.join(sorted(closure(selection)))}."
    nox.session(name=f"tests-{name}", tags=["matrix", "tests"])(combination)


for _name, _selection in ENVIRONMENTS.items():
    if _name != "all":
        _make_combination_session(_name, _selection)


@nox.session(name="tests-all", python=INSTALLED_PYTHONS, tags=["matrix", "tests"])
def tests_all(session: nox.Session) -> None:
    """Test all four packages together, on every supported Python installed here."""
    run_matrix_cell(session, ENVIRONMENTS["all"])
    session.run("pytest", "-p", "no:cacheprovider", "tests/repository", *session.posargs)


@nox.session(name="tests-lowest", python=LOWEST_PYTHON, tags=["matrix", "tests"])
def tests_lowest(session: nox.Session) -> None:
    """All four packages at the lowest versions they declare (uv's lowest-direct)."""
    # lowest-direct lowers only direct requirements. A source folder's requirements count
    # as direct, a wheel file's do not: name them directly, read from the wheels.
    declared = [] if installed_from_dist() is None else third_party_requirements(set(PACKAGES))
    run_matrix_cell(session, ENVIRONMENTS["all"], "--resolution", "lowest-direct", *declared)
    session.run("python", str(ROOT / "tests" / "check_floors.py"), *map(str, PACKAGE_PYPROJECTS))


@nox.session(name="interop-zuko", tags=["matrix", "tests"])
def interop_zuko(session: nox.Session) -> None:
    """A zuko flow trains unchanged through LayerTrainer and DistributionTrainer."""
    installed = closure(("layers", "train"))
    install_pygen(
        session,
        installed,
        *nox.project.dependency_groups(PYPROJECT, "test"),
        *nox.project.dependency_groups(PYPROJECT, "interop-zuko"),
    )
    check_environment(session, installed)
    session.run("pytest", "-n", os.environ.get("PYGEN_TEST_WORKERS", "auto"), "-p",
                "no:cacheprovider", "tests/interop/zuko", *session.posargs)  # fmt: skip


@nox.session(name="tests-mlflow", tags=["matrix", "tests"])
def tests_mlflow(session: nox.Session) -> None:
    """Test MLflowLogger: installs pygen-callbacks[mlflow] (the mlflow extra) with pygen-train.

    tests/callbacks_mlflow/ runs only here (the other sessions do not install mlflow):
    real training runs logged to a SQLite MLflow store and read back with MlflowClient.
    """
    installed = closure(("callbacks",))
    install_pygen(
        session,
        installed,
        *nox.project.dependency_groups(PYPROJECT, "test"),
        extras={"callbacks": "mlflow"},
    )
    check_environment(session, installed)
    session.run("pytest", "-p", "no:cacheprovider", "tests/callbacks_mlflow", *session.posargs)


@nox.session(tags=["matrix"])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def build_dists(session: nox.Session, dist: Path) -> None:
    """Build each package's sdist, then its wheel from that sdist, into ``dist``.

    Each wheel is also built straight from its folder; the two must hold the same files
    with the same bytes, so an sdist that misses a file fails here. Then every file is
    checked to hold exactly its own ``pygen/<name>/``.
    """
    shutil.rmtree(dist, ignore_errors=True)
    from_folders = Path(session.create_tmp()).resolve() / "wheels-from-folders"
    shutil.rmtree(from_folders, ignore_errors=True)
    # uv would build in the session's environment, taken from VIRTUAL_ENV and UV_PYTHON.
    clean = {"VIRTUAL_ENV": None, "UV_PYTHON": None}
    for package in PACKAGES:
        folder = str(package_dir(package))
        # uv build with neither --sdist nor --wheel builds the sdist, then the wheel from it.
        session.run("uv", "build", "--quiet", "--out-dir", str(dist), folder,
                    env=clean, external=True)  # fmt: skip
        session.run("uv", "build", "--quiet", "--wheel", "--out-dir", str(from_folders),
                    folder, env=clean, external=True)  # fmt: skip
    check_dists = str(ROOT / "tests" / "check_dists.py")
    session.run("python", check_dists, str(dist), *PACKAGES, "--same-wheels", str(from_folders))


@nox.session(tags=["matrix"])
def build(session: nox.Session) -> None:
    """Build each sdist and its wheel from it, check their contents, install each alone."""
    dist = Path(session.create_tmp()).resolve() / "dist"
    build_dists(session, dist)

    # Each wheel alone in a fresh environment: its pygen dependencies must come from
    # the freshly built wheels beside it (never a registry), and it must import. Last,
    # all four wheels together, to catch conflicts between their requirements.
    for selection in [(package,) for package in PACKAGES] + [PACKAGES]:
        expected = closure(selection)
        with tempfile.TemporaryDirectory(prefix="pygen-wheels-") as venv:
            python = str(Path(venv) / "bin" / "python")
            session.run("uv", "venv", "--quiet", "--python", sys.executable, venv, external=True)
            session.run(
                "uv", "pip", "install", "--quiet", "--python", python,
                *(str(wheel_file(dist, package)) for package in sorted(expected)),
                external=True,
            )  # fmt: skip
            session.run(
                python, str(ROOT / "tests" / "check_environment.py"), *sorted(expected),
                "--from-wheels", external=True,
            )  # fmt: skip


@nox.session
def bump(session: nox.Session) -> None:
    """Set the version and the exact sibling pins of all four packages: nox -s bump -- X.Y.Z.

    Also turns CHANGELOG.md's Unreleased section into the entry for X.Y.Z when it has none.
    """
    if len(session.posargs) != 1:
        session.error("give the new version: nox -s bump -- X.Y.Z")
    session.install(*nox.project.dependency_groups(PYPROJECT, "release"))
    session.run("python", str(ROOT / "tools" / "versions.py"), "bump", session.posargs[0])


@nox.session
def release(session: nox.Session) -> None:
    """Build dist/ (four wheels, four sdists, SHA256SUMS) after the matrix passed on them.

    Refuses first when the versions, the sibling pins or CHANGELOG.md disagree. Then
    builds each sdist and its wheel from it, runs every test session (the eight
    environments on every Python here, and the lowest versions) against exactly those
    wheels, checks each file with ``twine check --strict``, and writes ``SHA256SUMS``.
    ``nox -s release -- -s tests-D`` tries the machinery with fewer sessions: it then
    says that the result is not a release.
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "release"))
    session.run("python", str(ROOT / "tools" / "versions.py"), "check")
    dist = ROOT / "dist"
    build_dists(session, dist)
    files = sorted(dist.glob("*.whl")) + sorted(dist.glob("*.tar.gz"))
    session.run("twine", "check", "--strict", *map(str, files))

    selection = list(session.posargs) or ["-t", "tests"]
    session.log(f"testing {', '.join(f.name for f in files if f.suffix == '.whl')}")
    # The same sessions as the matrix, in a nox of their own, told to install the wheels.
    session.run(
        sys.executable, "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *selection,
        # This session's PATH starts with its own environment; the inner nox must find the
        # interpreters the outer one found.
        env={DIST_VARIABLE: str(dist), "VIRTUAL_ENV": None, "UV_PYTHON": None,
             "PATH": os.environ["PATH"]},
        external=True,
    )  # fmt: skip

    lines = [f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in files]
    (dist / "SHA256SUMS").write_text("".join(lines))
    if shutil.which("sha256sum"):  # the file is in the format `sha256sum --check` reads
        with session.chdir(dist):
            session.run("sha256sum", "--check", "SHA256SUMS", external=True)
    if session.posargs:
        session.warn(f"only {' '.join(selection)} ran: {dist} is a trial, not a release")
    else:
        session.log(f"release ready in {dist}: {len(files)} files and SHA256SUMS")


@nox.session(python=DOCS_PYTHON, tags=["matrix", "docs"])
def docs(session: nox.Session) -> None:
    """Build the documentation site into docs/_build/html; any warning fails it.

    From scratch every time (an incremental build would hide the warnings of pages it
    does not reread): the API reference is generated from the packages' ``__all__``, a
    public name without a docstring or a broken cross-reference fails, every gallery
    example runs (a failing one fails), then every code example of the guides and the
    docstrings runs as a doctest, and docs/check_site.py checks that every internal link,
    image and anchor of the built pages resolves. Offline; about a minute and a half on two
    cores.
    """
    # the mlflow extra: MLflowLogger's docstring and the callbacks guide log a real run
    install_pygen(
        session,
        set(PACKAGES),
        *nox.project.dependency_groups(PYPROJECT, "docs"),
        extras={"callbacks": "mlflow"},
    )
    docs_folder, build = ROOT / "docs", ROOT / "docs" / "_build"
    for generated in (build, docs_folder / "auto_examples", docs_folder / "api"):
        shutil.rmtree(generated, ignore_errors=True)
    (docs_folder / "sg_execution_times.rst").unlink(missing_ok=True)
    doctrees = str(build / "doctrees")
    env = {"MPLBACKEND": "agg", "OMP_NUM_THREADS": "1"}
    for builder in ("html", "doctest"):
        session.run(
            "sphinx-build", "-W", "--keep-going", "-q", "-b", builder, "-d", doctrees,
            str(docs_folder), str(build / builder), env=env,
        )  # fmt: skip
    # every internal link, image and anchor of the built pages resolves
    session.run("python", str(docs_folder / "check_site.py"), str(build / "html"))
    session.log(f"the site: {build / 'html' / 'index.html'}")


@nox.session(tags=["demo"])
def demo(session: nox.Session) -> None:
    """Train a classifier and a PixelCNN on data that needs no network; show the results."""
    install_pygen(session, set(PACKAGES), *nox.project.dependency_groups(PYPROJECT, "examples"))
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session(tags=["bench"])
def bench(session: nox.Session) -> None:
    """Run every tests/benchmarks/bench_*.py (timed comparisons); print one table."""
    run_scripts(session, "bench_*.py")


@nox.session(tags=["bench"])
def results(session: nox.Session) -> None:
    """Train on real Fashion-MNIST (offline copy) for the README's Results; print one table.

    Needs Debian's ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``).
    About 30 minutes on a 2-core CPU.
    """
    run_scripts(session, "results_*.py")


def run_scripts(session: nox.Session, pattern: str) -> None:
    """Run the matching scripts of tests/benchmarks/ and print their rows as one table.

    Each script takes ``--json PATH`` and writes a list of rows there, each with the keys
    benchmark, metric, value, unit and detail. Arguments after ``--`` go to every script.
    """
    install_pygen(
        session,
        set(PACKAGES),
        *nox.project.dependency_groups(PYPROJECT, "examples"),
        *nox.project.dependency_groups(PYPROJECT, "bench"),
    )
    output = Path(session.create_tmp()).resolve() / session.name
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    for script in sorted((ROOT / "tests" / "benchmarks").glob(pattern)):
        rows = output / f"{script.stem}.json"
        session.run("python", str(script), "--json", str(rows), *session.posargs)
    rows = [row for path in sorted(output.glob("*.json")) for row in json.loads(path.read_text())]
    session.log("\n" + format_table(rows))


def format_table(rows: list[dict]) -> str:
    header = ("benchmark", "metric", "value", "unit", "detail")
    lines = [[str(row.get(key, "")) for key in header] for row in rows]
    for line, row in zip(lines, rows, strict=True):
        if isinstance(row.get("value"), float):
            line[2] = f"{row['value']:.4g}"
    widths = [max(len(x) for x in column) for column in zip(header, *lines, strict=True)]
    render = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    title = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    return "\n".join([title, "-" * len(title), *render])

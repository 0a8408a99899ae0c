"""docs/check_site.py, the built site's link checker that ``nox -s docs`` runs."""

import doctest
import importlib.util
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "docs" / "check_site.py"


def load_checker():
    spec = importlib.util.spec_from_file_location("check_site", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_site"] = module
    spec.loader.exec_module(module)
    return module


def test_docstring_example():
    results = doctest.testmod(load_checker())
    assert results.attempted > 0
    assert results.failed == 0


def write_site(root: Path) -> None:
    (root / "guides").mkdir()
    (root / "_images").mkdir()
    (root / "_images" / "grid.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "index.html").write_text(
        '<a href="guides/">guides</a> <a href="https://example.org/missing">web</a>'
        '<a href="#intro" id="intro">here</a> <a href="mailto:a@b.c">mail</a>'
    )
    (root / "guides" / "index.html").write_text(
        '<section id="use"><img src="../_images/grid.png"></section>'
        '<a href="../index.html#intro">back</a> <a href="#use">up</a>'
    )


def test_a_whole_site_passes_and_the_command_says_so(tmp_path):
    write_site(tmp_path)
    assert load_checker().broken_references(tmp_path) == []
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "2 pages" in run.stdout


def test_each_kind_of_breakage_is_named_and_fails_the_command(tmp_path):
    write_site(tmp_path)
    (tmp_path / "guides" / "extra.html").write_text(
        '<img src="../_images/gone.png"> <a href="../index.html#nowhere">x</a>'
        '<a href="../../outside.html">out</a> <link href="style.css" rel="stylesheet">'
    )
    broken = load_checker().broken_references(tmp_path)
    assert [(b.target, b.reason) for b in broken] == [
        ("../_images/gone.png", "no such file"),
        ("../index.html#nowhere", "no element with id 'nowhere' in index.html"),
        ("../../outside.html", "points outside the site"),
        ("style.css", "no such file"),
    ]
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert "guides/extra.html: <img src='../_images/gone.png'>: no such file" in run.stderr
    assert "4 broken internal references in 3 pages" in run.stderr

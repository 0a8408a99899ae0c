"""Each gallery page says what it needs, and the installing guide lists every page."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GALLERY = sorted((ROOT / "docs" / "gallery").glob("plot_*.py"))
# import name -> what to pip install, for every third-party import a page may make
DISTRIBUTIONS = {
    "pygen.distributions": "pygen-distributions",
    "pygen.layers": "pygen-layers",
    "pygen.train": "pygen-train",
    "pygen.callbacks": "pygen-callbacks",
    "sklearn": "scikit-learn",
    "matplotlib": "matplotlib",
}
# what pygen-callbacks brings in, so a page importing it needs not name it
BROUGHT_BY_CALLBACKS = {"matplotlib"}


def imported(page: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(page.read_text())):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        for module in modules:
            for prefix, distribution in DISTRIBUTIONS.items():
                if module == prefix or module.startswith(prefix + "."):
                    names.add(distribution)
    return names


def needs_line(page: Path) -> set[str]:
    docstring = ast.get_docstring(ast.parse(page.read_text())) or ""
    found = re.search(r"Needs ``pip install ([^`]+)``", " ".join(docstring.split()))
    assert found, f"{page.name}: its docstring has no 'Needs ``pip install ...``' line"
    return set(found.group(1).split())


def test_the_gallery_has_pages():
    assert len(GALLERY) >= 8


@pytest.mark.parametrize("page", GALLERY, ids=[page.stem for page in GALLERY])
def test_each_page_names_what_it_imports(page: Path):
    needed = imported(page)
    named = needs_line(page)
    if "pygen-callbacks" in named:
        needed -= BROUGHT_BY_CALLBACKS
    assert sorted(needed - named) == [], f"{page.name}: imports them, its Needs line omits them"


@pytest.mark.parametrize("page", GALLERY, ids=[page.stem for page in GALLERY])
def test_the_installing_guide_lists_each_page_with_its_packages(page: Path):
    guide = (ROOT / "docs" / "guides" / "installing.rst").read_text()
    rows = re.findall(r"   \* - ((?:.|\n)*?)\n     - ``([^`]+)``", guide)
    packages = [
        set(names.split()) for pages, names in rows if f"auto_examples/{page.stem}`" in pages
    ]
    assert packages, f"docs/guides/installing.rst lists no row for {page.stem}"
    assert needs_line(page) <= packages[0], (page.stem, needs_line(page), packages[0])

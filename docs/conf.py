"""Sphinx configuration of the pygen documentation site (built by ``nox -s docs``).

The API reference is generated at every build from each package's ``__all__``
(``api_pages`` below), so a name another change adds to a package appears without an
edit here, and a public name without a docstring fails the build. Cross-references are
nitpicky for pygen's own names; names outside pygen (torch, the standard library) cannot
be resolved offline, so they are not checked.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import inspect
import pkgutil
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

HERE = Path(__file__).resolve().parent
logger = logging.getLogger("pygen-docs")

project = "pygen"
author = "The pygen developers"
copyright = "The pygen developers (MIT License)"
release = importlib.metadata.version("pygen-distributions")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

# One row per package: (package, pip name, what it depends on, one line about it).
PACKAGES = [
    ("distributions", "torch",
     "Distributions torch lacks, and trainable models: PixelCNN, MADE, flows, Glow, a VAE."),
    ("layers", "torch, pygen-distributions", "Layers that turn a tensor into a distribution."),
    ("train", "torch, tqdm", "The maximum-likelihood training loop."),
    ("callbacks", "torch, torchvision, tensorboard, matplotlib, pygen-train",
     "Callbacks that let you watch training."),
]  # fmt: skip

html_theme = "furo"
html_title = f"pygen {release}"
templates_path = []
exclude_patterns = ["_build", "gallery/README.rst", "api/_template"]

nitpicky = True
# Offline, there are no inventories of torch's or Python's objects: check pygen's names only.
# Private pygen classes (``pygen.layers._checked.MultivariateNormal``, a checked torch
# subclass a layer returns) are not part of the reference either.
nitpick_ignore_regex = [(r"py:.*", r"(?!pygen\b).*"), (r"py:.*", r"pygen(\.\w+)*\._\w+.*")]
suppress_warnings: list[str] = []

autodoc_default_options = {"members": True, "inherited-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_inherit_docstrings = True
autosummary_generate = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# A docstring's example runs in its module's namespace when the tests run it; here each
# page's examples see the public names of the four packages instead.
doctest_global_setup = """
import torch
from pygen.distributions import *
from pygen.layers import *
from pygen.train import *
from pygen.callbacks import *
torch.manual_seed(0)
torch.set_num_threads(1)
"""
# Every docstring example is also run by each package's tests; here the guides' examples
# and the docstrings' run once more against the same code the pages show.
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
    "show_memory": False,
    "reset_modules": ("matplotlib", "seaborn"),
    "first_notebook_cell": None,
    "matplotlib_animations": False,
    "plot_gallery": "True",
    "thumbnail_size": (320, 240),
}


def defined_in_pygen(obj: object) -> bool:
    """Whether ``obj`` (a function, property or class) was written in pygen, not torch."""
    target = obj.fget if isinstance(obj, property) else obj
    target = getattr(target, "__func__", target)
    return getattr(target, "__module__", None) in PYGEN_MODULES or str(
        getattr(target, "__module__", "")
    ).startswith("pygen.")


PYGEN_MODULES = {f"pygen.{package}" for package, *_ in PACKAGES}


def public_members(cls: type) -> dict[str, object]:
    """The public methods and properties pygen code gives ``cls``, with what defines them.

    Members inherited from pygen's private bases count; members that only override a
    method of a base outside pygen (``forward``, ``log_prob``, ``extra_repr``) do not:
    they keep the meaning their base documents.
    """
    outside = {name for base in cls.__mro__ if not defined_in_pygen(base) for name in vars(base)}
    members: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if not defined_in_pygen(klass):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in outside:
                continue
            if isinstance(value, (property, staticmethod, classmethod)) or inspect.isfunction(
                value
            ):
                members[name] = value
    return members


def attributes_section(cls: type) -> str:
    """The text of the ``Attributes:`` section of ``cls``'s docstring ("" if none)."""
    doc = inspect.getdoc(cls) or ""
    if "Attributes:" not in doc:
        return ""
    section = doc.split("Attributes:", 1)[1]
    for header in ("\nArgs:", "\nExample:", "\nExamples:", "\nRaises:", "\nReturns:", "\nNote:"):
        section = section.split(header, 1)[0]
    return section


def missing_docstrings(package: str) -> list[str]:
    """The public names of ``pygen.<package>`` (its ``__all__``) that have no docstring.

    A class's public methods and properties count too; one that the class docstring's
    ``Attributes:`` section names (as a protocol's properties are) is documented there.
    Data (constants, type aliases) is shown with its value and needs no docstring.
    """
    module = importlib.import_module(f"pygen.{package}")
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        if not inspect.getdoc(obj):
            missing.append(f"pygen.{package}.{name}")
        if inspect.isclass(obj):
            attributes = set(re.findall(r"\w+", attributes_section(obj)))
            for member, value in public_members(obj).items():
                target = value.fget if isinstance(value, property) else value
                target = getattr(target, "__func__", target)
                if not inspect.getdoc(target) and member not in attributes:
                    missing.append(f"pygen.{package}.{name}.{member}")
    return missing


def api_page(package: str, depends_on: str, summary: str) -> str:
    """The reST of one package's reference page: install line, table, every public name."""
    module = importlib.import_module(f"pygen.{package}")
    title = f"pygen.{package}"
    lines = [
        f".. This page is generated by docs/conf.py from pygen.{package}.__all__; do not edit.",
        "",
        title,
        "=" * len(title),
        "",
        summary,
        "",
        f"Package ``pygen-{package}``, depends on {depends_on}::",
        "",
        f"    pip install pygen-{package}",
        "",
        f".. py:module:: pygen.{package}",
        "",
        package_description(module),
        "",
        ".. autosummary::",
        "",
        *(f"   {name}" for name in module.__all__),
        "",
    ]
    for name in module.__all__:
        obj = getattr(module, name)
        kind = "autoclass" if inspect.isclass(obj) else "autofunction"
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            kind = "autodata"
        lines += [name, "-" * len(name), "", f"*In* ``pygen-{package}``: "
                  f"``pip install pygen-{package}``", "", f".. {kind}:: {name}", ""]  # fmt: skip
    # Targets for references to the package's modules (``:mod:`pygen.train.batching```):
    # their public names are documented on this page, under the package. A module named
    # like the function it holds (``callback_compose``) leaves the name to the function.
    lines += [f".. py:module:: {name}" for name in submodules(package)
              if name.rsplit(".", 1)[1] not in module.__all__]  # fmt: skip
    return "\n".join(lines) + "\n"


def package_description(module: object) -> str:
    """The package docstring without its first line (``pygen.x: ...``), which is the title.

    The page already shows the package's name as its title and the one-line summary of
    ``PACKAGES`` under it; the docstring's own summary line would say it a second time.
    """
    doc = inspect.getdoc(module) or ""
    first, _, rest = doc.partition("\n\n")
    return rest.strip() if first.startswith(f"{module.__name__}:") else doc


def submodules(package: str) -> list[str]:
    """The public modules below ``pygen.<package>`` (those without a leading underscore)."""
    module = importlib.import_module(f"pygen.{package}")
    return sorted(
        info.name
        for info in pkgutil.walk_packages(module.__path__, prefix=f"pygen.{package}.")
        if not any(part.startswith("_") for part in info.name.split("."))
    )


def skip_outside_pygen(app: Sphinx, what: str, name: str, obj: object, skip: bool, options):
    """Document the members pygen wrote (its private bases' too), never torch's."""
    if what == "class" and not skip and not defined_in_pygen(obj):
        return True
    return None


def public_bases(app: Sphinx, name: str, obj: object, options, bases: list) -> None:
    """Show a private pygen base (``_PixelCNNBase``) as the public bases it stands on."""
    index = 0
    while index < len(bases):
        base = bases[index]
        private = any(part.startswith("_") for part in [*base.__module__.split("."), base.__name__])
        if defined_in_pygen(base) and private:
            bases[index : index + 1] = [b for b in base.__bases__ if b not in bases]
        else:
            index += 1


def resolve_via_package(app: Sphinx, env, node, contnode):
    """Resolve ``pygen.train.checkpoint.atomic_save`` to ``pygen.train.atomic_save``.

    Docstrings may name an object by the module that defines it; the reference documents
    it under its package, which re-exports it.
    """
    target = node.get("reftarget", "")
    parts = target.split(".")
    if node.get("refdomain") != "py" or len(parts) < 3 or parts[0] != "pygen":
        return None
    try:
        exported = importlib.import_module(f"pygen.{parts[1]}").__all__
    except ImportError:
        return None
    for index in range(2, len(parts)):
        if parts[index] in exported:
            new_target = ".".join(["pygen", parts[1], *parts[index:]])
            if new_target == target:
                return None
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], new_target, node, contnode
            )
    return None


def doctest_group_per_object(app: Sphinx, what: str, name: str, obj, options, lines) -> None:
    """Run each docstring's examples in a doctest group of its own.

    The package tests run every docstring's examples as one test from a fresh seed; one
    group per object does the same here (the global setup seeds each group), instead of
    one stream of random numbers through the whole page.
    """
    result: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.lstrip().startswith(">>>"):
            result.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        result += [f"{indent}.. doctest:: {name}", ""]
        while index < len(lines) and lines[index].strip():
            result.append(f"{indent}   {lines[index][len(indent) :]}")
            index += 1
        result.append("")
    lines[:] = result


def write_api_pages(app: Sphinx) -> None:
    """Generate ``api/pygen.<package>.rst`` from ``__all__``; warn on missing docstrings."""
    folder = HERE / "api"
    folder.mkdir(exist_ok=True)
    for package, depends_on, summary in PACKAGES:
        path = folder / f"pygen.{package}.rst"
        text = api_page(package, depends_on, summary)
        if not path.is_file() or path.read_text() != text:  # keep mtimes for incremental builds
            path.write_text(text)
        for name in missing_docstrings(package):
            logger.warning(f"{name} is public (in __all__) but has no docstring")


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", write_api_pages)
    app.connect("autodoc-skip-member", skip_outside_pygen)
    app.connect("autodoc-process-docstring", doctest_group_per_object)
    app.connect("autodoc-process-bases", public_bases)
    app.connect("missing-reference", resolve_via_package)

"""Shared test helpers for every nox environment.

Only standard library and torch imports here: this file is loaded in every
combination session, including those where most pygen packages are absent.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
import torch


def iter_modules(package_name: str) -> Iterator[ModuleType]:
    """Import and yield ``package_name`` and every module below it (or the one module)."""
    package = importlib.import_module(package_name)
    yield package
    if not hasattr(package, "__path__"):
        return
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        yield importlib.import_module(info.name)


def _installed(name: str) -> bool:
    """Whether the module ``name`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: sys.modules holds None for it
        return False


def run_docstring_examples(package_name: str) -> int:
    """Run every docstring example in the installed package; return how many ran.

    Fails the calling test with the doctest report when any example fails. A module whose
    ``__doctest_requires__`` names a module that is not installed (an optional extra, such
    as ``mlflow`` for ``pygen.callbacks.mlflow_logger``) is left out: the session that
    installs the extra runs its examples.
    """
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for module in iter_modules(package_name):
        needs = getattr(module, "__doctest_requires__", ())
        if not all(_installed(name) for name in needs):
            continue
        for test in finder.find(module, module.__name__):
            if test.filename is not None and module.__file__ != test.filename:
                continue  # re-exported objects are tested in their own module
            torch.manual_seed(0)
            result = runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
            examples += result.attempted
    return examples


@pytest.fixture(autouse=True)
def _seeded_torch() -> Iterator[None]:
    """Give every test the same starting RNG state, and keep torch single-threaded.

    pytest-xdist runs one worker per core; letting each worker also spawn a thread
    per core only makes them fight.
    """
    torch.manual_seed(0)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous_threads)


@pytest.fixture
def run_doctests() -> Callable[[str], int]:
    """The docstring-example runner, as a fixture (test modules cannot import conftest)."""
    return run_docstring_examples

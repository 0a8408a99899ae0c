"""Run every docstring example of pygen.distributions."""

from __future__ import annotations

import re
from collections.abc import Callable

import pygen.distributions as package


def test_docstring_examples(run_doctests: Callable[[str], int]) -> None:
    assert run_doctests("pygen.distributions") > 0


def test_package_docstring_names_every_public_name() -> None:
    """The API page's overview (the package docstring) sorts every public name into a group."""
    named = set(re.findall(r"``(\w+)``", package.__doc__))
    assert sorted(set(package.__all__) - named) == []

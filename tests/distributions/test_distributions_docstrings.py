"""Run every docstring example of pygen.distributions."""

from __future__ import annotations

from collections.abc import Callable


def test_docstring_examples(run_doctests: Callable[[str], int]) -> None:
    assert run_doctests("pygen.distributions") > 0

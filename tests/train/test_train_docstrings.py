"""Every >>> example in pygen.train runs and passes."""

from __future__ import annotations


def test_docstring_examples(run_doctests):
    assert run_doctests("pygen.train") > 0

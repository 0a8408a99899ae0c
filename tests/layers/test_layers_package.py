"""pygen.layers as a package: exports and docstring examples."""

from __future__ import annotations

import importlib

import pygen.layers


def test_all_is_sorted_and_complete() -> None:
    names = pygen.layers.__all__
    assert names == sorted(names)
    for name in names:
        obj = getattr(pygen.layers, name)
        module = importlib.import_module(obj.__module__)
        assert name in module.__all__


def test_every_layer_documents_its_shapes_and_has_an_example() -> None:
    for name in pygen.layers.__all__:
        doc = getattr(pygen.layers, name).__doc__
        assert doc is not None
        assert ">>>" in doc, name


def test_docstring_examples(run_doctests) -> None:
    assert run_doctests("pygen.layers") > 0

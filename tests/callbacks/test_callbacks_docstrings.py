"""Every docstring example of pygen.callbacks runs."""


def test_docstring_examples(run_doctests):
    assert run_doctests("pygen.callbacks") > 0

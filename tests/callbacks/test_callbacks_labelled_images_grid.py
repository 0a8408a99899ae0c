"""make_labelled_images_grid: checks, size, titles drawn, no pyplot state."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from pygen.callbacks import make_labelled_images_grid


def test_rejects_bad_arguments():
    labels = [str(i) for i in range(4)]
    with pytest.raises(TypeError, match=r"images must be a torch.Tensor; got list"):
        make_labelled_images_grid([torch.zeros(1, 2, 2)] * 4, labels)
    with pytest.raises(ValueError, match=r"C in \{1, 3\}.*got shape \[4, 2, 5, 5\]"):
        make_labelled_images_grid(torch.zeros(4, 2, 5, 5), labels)
    with pytest.raises(ValueError, match=r"3 labels for 4 images"):
        make_labelled_images_grid(torch.zeros(4, 1, 5, 5), labels[:3])
    with pytest.raises(TypeError, match=r"labels must be strings; got int 3"):
        make_labelled_images_grid(torch.zeros(4, 1, 5, 5), [*labels[:3], 3])
    with pytest.raises(ValueError, match=r"ncols must be an int >= 1; got 0"):
        make_labelled_images_grid(torch.zeros(4, 1, 5, 5), labels, ncols=0)


def test_size_rgb_and_no_pyplot_figures():
    figures_before = plt.get_fignums()
    grid = make_labelled_images_grid(
        torch.rand(6, 3, 4, 4), list("abcdef"), ncols=3, cell_inches=1.0, dpi=40
    )
    assert grid.shape == (3, 80, 120)  # 2 rows x 3 columns of 40-pixel cells
    assert grid.min() >= 0.0
    assert grid.max() <= 1.0
    assert plt.get_fignums() == figures_before


def test_titles_are_drawn():
    images = torch.zeros(2, 1, 8, 8)
    one = make_labelled_images_grid(images, ["cat"] * 2, ncols=2, dpi=30)
    same = make_labelled_images_grid(images, ["cat"] * 2, ncols=2, dpi=30)
    other = make_labelled_images_grid(images, ["dog"] * 2, ncols=2, dpi=30)
    assert torch.equal(one, same)
    assert not torch.equal(one, other)


def _red_pixels(grid: torch.Tensor) -> int:
    red, green, blue = grid
    return int(((red > 0.7) & (green < 0.3) & (blue < 0.3)).sum())


def test_a_title_line_and_title_colours_are_drawn():
    images = torch.zeros(2, 1, 8, 8)
    plain = make_labelled_images_grid(images, ["cat", "dog"], ncols=2, dpi=30)
    titled = make_labelled_images_grid(
        images, ["cat", "dog"], ncols=2, dpi=30, title="what the titles are"
    )
    assert titled.shape == plain.shape  # the line takes room inside the same figure
    assert not torch.equal(titled, plain)
    assert _red_pixels(plain) == 0
    coloured = make_labelled_images_grid(
        images, ["cat", "dog"], ncols=2, dpi=30, colors=["black", "red"]
    )
    assert _red_pixels(coloured) > 0
    with pytest.raises(ValueError, match=r"one colour per image; got 1 colours for 2 images"):
        make_labelled_images_grid(images, ["cat", "dog"], colors=["red"])
    with pytest.raises(TypeError, match=r"title must be a string or None; got int"):
        make_labelled_images_grid(images, ["cat", "dog"], title=3)

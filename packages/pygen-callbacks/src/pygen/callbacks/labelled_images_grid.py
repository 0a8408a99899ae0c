"""Render images in a grid, each titled with a label, as an image tensor (matplotlib, Agg)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["make_labelled_images_grid"]


def make_labelled_images_grid(
    images: torch.Tensor,
    labels: Sequence[str],
    *,
    ncols: int = 5,
    cell_inches: float = 2.0,
    dpi: int = 100,
    title: str | None = None,
    colors: Sequence[str] | None = None,
) -> torch.Tensor:
    """Draw ``images`` in a grid with ``ncols`` columns, each titled with its label.

    The figure is a ``matplotlib.figure.Figure`` drawn on its own Agg canvas: no pyplot
    state is created or touched, so it works without a display and from any thread, and
    leaks no figures. Grey images (one channel) use the grey colour map; RGB images are
    shown as they are. Pixel values are clipped to ``[0, 1]``.

    Args:
        images: ``[N, C, H, W]`` (``C`` in ``{1, 3}``) or ``[N, H, W]`` images in ``[0, 1]``.
        labels: ``N`` strings, one title per image.
        ncols: images per row (the original grid is 5 x 5).
        cell_inches: width and height of one grid cell, in inches.
        dpi: dots per inch of the rendering; the result is
            ``[3, ceil(rows * cell_inches * dpi), ceil(ncols * cell_inches * dpi)]`` pixels
            (up to rounding).
        title: a line above the grid saying what the titles are, or None.
        colors: ``N`` matplotlib colours, one per image title (e.g. ``"red"`` for a
            mistake), or None for the default colour.

    Returns:
        A float tensor ``[3, height, width]`` in ``[0, 1]`` (RGB, ready for ``add_image``).

    Raises:
        TypeError: if ``images`` is not a tensor or a label is not a string.
        ValueError: if the shapes are not images, or labels (or colors) and images differ
            in number.

    Example:
        >>> import torch
        >>> labels = [str(i) for i in range(25)]
        >>> make_labelled_images_grid(torch.rand(25, 1, 8, 8), labels, dpi=20).shape
        torch.Size([3, 200, 200])
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"make_labelled_images_grid: images must be a torch.Tensor; got {type(images).__name__}"
        )
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dim() != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(
            f"make_labelled_images_grid: images must have shape [N, C, H, W] with N >= 1 and "
            f"C in {{1, 3}} (or [N, H, W]); got shape {list(images.shape)}"
        )
    labels = list(labels)
    if len(labels) != images.shape[0]:
        raise ValueError(
            f"make_labelled_images_grid: labels must give one title per image; "
            f"got {len(labels)} labels for {images.shape[0]} images"
        )
    for label in labels:
        if not isinstance(label, str):
            raise TypeError(
                f"make_labelled_images_grid: labels must be strings; "
                f"got {type(label).__name__} {label!r}"
            )
    if colors is not None:
        colors = list(colors)
        if len(colors) != len(labels):
            raise ValueError(
                f"make_labelled_images_grid: colors must give one colour per image; "
                f"got {len(colors)} colours for {len(labels)} images"
            )
    if title is not None and not isinstance(title, str):
        raise TypeError(
            f"make_labelled_images_grid: title must be a string or None; got {type(title).__name__}"
        )
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"make_labelled_images_grid: ncols must be an int >= 1; got {ncols!r}")
    if not cell_inches > 0 or not dpi > 0:
        raise ValueError(
            f"make_labelled_images_grid: cell_inches and dpi must be positive; "
            f"got cell_inches={cell_inches}, dpi={dpi}"
        )

    pixels = images.detach().to("cpu", torch.float32).clamp(0.0, 1.0).numpy()
    nrows = math.ceil(len(labels) / ncols)
    figure = Figure(figsize=(ncols * cell_inches, nrows * cell_inches), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    if title is not None:
        figure.suptitle(title)
        # room for the line and the first row's titles: 0.75 inch
        figure.subplots_adjust(top=1.0 - 0.75 / (nrows * cell_inches))
    # titles scale with the cell (16 pt on the default 2-inch cell), so that they stay
    # legible when the grid is shown smaller than its pixel size
    fontsize = 8.0 * cell_inches
    for index, (image, label) in enumerate(zip(pixels, labels, strict=True)):
        axes = figure.add_subplot(nrows, ncols, index + 1)
        color = "black" if colors is None else colors[index]
        axes.set_title(label, color=color, fontsize=fontsize)
        axes.set_xticks([])
        axes.set_yticks([])
        if image.shape[0] == 1:
            axes.imshow(image[0], cmap="gray", vmin=0.0, vmax=1.0)
        else:
            axes.imshow(np.transpose(image, (1, 2, 0)))
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return torch.from_numpy(rgba[:, :, :3].transpose(2, 0, 1).copy()).float() / 255.0

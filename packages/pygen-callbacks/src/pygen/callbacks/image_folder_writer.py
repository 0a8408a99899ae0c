"""Write image grids to a folder as PNG files, atomically."""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch
from torchvision.utils import save_image

from pygen.callbacks._common import ensure_writable_folder
from pygen.train.checkpoint import atomic_write

__all__ = ["ImageFolderWriter"]

_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


class ImageFolderWriter:
    """Saves ``[C, H, W]`` image tensors in ``[0, 1]`` as PNG files in one folder.

    The image callbacks use it when given ``folder=``. Each image goes to
    ``<folder>/<name>_<step:04d>.png``; characters other than letters, digits, ``.``, ``_``
    and ``-`` in ``name`` (for example the ``/`` of a TensorBoard tag) become ``_``. A file is
    written with :func:`pygen.train.checkpoint.atomic_write` (a temporary file in the same
    folder, ``fsync``, ``os.replace``, the folder ``fsync``-ed), so a run killed mid-write
    never leaves a truncated PNG behind.

    The folder is created if needed and checked for writing at construction, so a bad
    folder fails before training starts rather than at the end of the first epoch.

    Args:
        folder: the folder to write into (created with its parents if missing).

    Raises:
        TypeError: if ``folder`` is not a ``str`` or ``os.PathLike``.
        ValueError: if the folder cannot be created or written.

    Example:
        >>> import tempfile, torch
        >>> folder = tempfile.mkdtemp()
        >>> writer = ImageFolderWriter(folder)
        >>> path = writer.write("samples", torch.rand(3, 8, 12), step=2)
        >>> path.name
        'samples_0002.png'
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = ensure_writable_folder("ImageFolderWriter", "folder", folder)

    def path_for(self, name: str, step: int) -> Path:
        """The file an image called ``name`` at ``step`` is written to.

        Args:
            name: the image's name (a TensorBoard tag is fine).
            step: the epoch or batch number.

        Returns:
            ``<folder>/<sanitised name>_<step:04d>.png``.
        """
        safe_name = _UNSAFE_CHARACTERS.sub("_", name).strip("_") or "image"
        return self.folder / f"{safe_name}_{step:04d}.png"

    def write(self, name: str, image: torch.Tensor, step: int) -> Path:
        """Write one image as a PNG file.

        Args:
            name: the image's name; see :meth:`path_for`.
            image: a float tensor ``[C, H, W]`` with ``C`` in ``{1, 3}`` and values in
                ``[0, 1]`` (values outside are clipped).
            step: the epoch or batch number, part of the file name.

        Returns:
            The path of the written file.

        Raises:
            TypeError: if ``image`` is not a tensor.
            ValueError: if ``image`` is not ``[C, H, W]`` with 1 or 3 channels.
        """
        if not isinstance(image, torch.Tensor):
            raise TypeError(
                f"ImageFolderWriter.write: image must be a torch.Tensor; got {type(image).__name__}"
            )
        if image.dim() != 3 or image.shape[0] not in (1, 3):
            raise ValueError(
                f"ImageFolderWriter.write: image must have shape [C, H, W] with C in {{1, 3}}; "
                f"got shape {list(image.shape)}"
            )
        path = self.path_for(name, step)
        pixels = image.detach().float().cpu().clamp(0.0, 1.0)
        atomic_write(path, lambda stream: save_image(pixels, stream, format="png"))
        return path

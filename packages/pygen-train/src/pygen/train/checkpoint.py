"""Crash-safe checkpoint files: atomic writes and loads that never run code.

A checkpoint written with :func:`atomic_save` (any file written with
:func:`atomic_write`) is either the complete new file or the previous file: the bytes go
to a temporary file in the same folder, which is flushed, ``fsync``-ed and then renamed
over the target with :func:`os.replace` (atomic on POSIX and Windows), after which the
folder itself is ``fsync``-ed so the rename survives a power cut. A process killed
mid-write (even with ``SIGKILL``) leaves the previous checkpoint intact and at most a
stray temporary file.

:func:`safe_load` reads with ``torch.load(..., weights_only=True)``, whose restricted
unpickler only rebuilds tensors and plain containers (dict, list, tuple, str, numbers,
bool, None). A file that would import or call anything else while unpickling is refused
with :class:`UnsafeCheckpointError` before any of its code runs. Keep checkpoints to plain
dicts of tensors and numbers, as the trainer does. (torch up to 2.5.1 had a bypass of
``weights_only`` for the legacy file format, CVE-2025-32434; use torch >= 2.6.)
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

__all__ = [
    "UnreadableCheckpointError",
    "UnsafeCheckpointError",
    "atomic_save",
    "atomic_write",
    "safe_load",
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint file holds objects that would run code when unpickled.

    Raised by :func:`safe_load` instead of loading the file; nothing from the file ran.
    Subclasses :class:`pickle.UnpicklingError`, which is what ``torch.load`` raises.
    """


class UnreadableCheckpointError(ValueError):
    """A checkpoint file is not a readable ``torch.save`` file (empty, truncated, garbage).

    Raised by :func:`safe_load` instead of the reader's own ``EOFError``, ``RuntimeError``
    or ``KeyError``; the message names the file and what to do.
    """


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entry table to disk so a rename inside it is durable (POSIX only)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Write a file so ``path`` is never left half-written: the new bytes or the old file.

    ``write`` gets a binary file in the same folder; once it returns, the file is
    flushed, ``fsync``-ed and renamed over ``path`` with :func:`os.replace` (atomic on
    POSIX and Windows), and then the folder is ``fsync``-ed so the rename survives a
    power cut. :func:`atomic_save` writes checkpoints through it, and pygen-callbacks'
    CSV and image files too.

    Args:
        path: the target file. Its folder must exist. An existing file is replaced only
            once the new contents are completely on disk.
        write: writes the contents to the binary file it is given (and need not close it).

    Raises:
        FileNotFoundError: if the folder of ``path`` does not exist.
        Exception: whatever ``write`` or the file system raised; the previous file at
            ``path`` is untouched and the temporary file is removed.

    Example:
        >>> import tempfile, pathlib
        >>> from pygen.train.checkpoint import atomic_write
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
        >>> atomic_write(path, lambda stream: stream.write(b"first"))
        >>> def fails(stream):
        ...     stream.write(b"half")
        ...     raise RuntimeError("disk full")
        >>> try:
        ...     atomic_write(path, fails)
        ... except RuntimeError:
        ...     pass
        >>> path.read_bytes(), [p.name for p in path.parent.iterdir()]
        (b'first', ['notes.txt'])
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"atomic_write: path must be in an existing folder; folder {str(folder)!r} "
            f"of {str(target)!r} does not exist"
        )
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` with :func:`torch.save` so ``path`` is never left half-written.

    The file is written with :func:`atomic_write`.

    Args:
        obj: what to save; keep it to plain dicts/lists of tensors, numbers and strings so
            that :func:`safe_load` can read it back.
        path: the target file. Its folder must exist. An existing file is replaced only
            once the new contents are completely on disk.

    Raises:
        FileNotFoundError: if the folder of ``path`` does not exist.
        Exception: whatever :func:`torch.save` or the file system raised; the previous
            file at ``path`` is untouched and the temporary file is removed.

    Example:
        >>> import tempfile, pathlib, torch
        >>> from pygen.train.checkpoint import atomic_save, safe_load
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> atomic_save({"step": 3, "weights": torch.zeros(2)}, folder / "ckpt.pt")
        >>> safe_load(folder / "ckpt.pt")["step"]
        3
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"atomic_save: path must be in an existing folder; folder {str(folder)!r} "
            f"of {str(target)!r} does not exist"
        )
    atomic_write(target, lambda handle: torch.save(obj, handle))


def safe_load(path: str | os.PathLike[str], map_location: str | torch.device | None = None) -> Any:
    """Load a file written by :func:`atomic_save` (or ``torch.save``) without running code.

    Args:
        path: the checkpoint file.
        map_location: where to put the tensors (as in :func:`torch.load`); default: where
            they were saved.

    Returns:
        The saved object (dicts, lists, tuples, tensors, numbers, strings, None).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        UnsafeCheckpointError: if the file would import or call anything beyond tensors and
            plain containers while unpickling (a malicious or non-plain checkpoint). Nothing
            in the file runs.
        UnreadableCheckpointError: if the file is empty, truncated or not a ``torch.save``
            file, naming it.

    Example:
        >>> import tempfile, pathlib, pickle
        >>> from pygen.train.checkpoint import UnsafeCheckpointError, safe_load
        >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.pt"
        >>> # unpickling this would look up (import) a callable: refused
        >>> _ = bad.write_bytes(pickle.dumps(print, protocol=2))
        >>> try:
        ...     safe_load(bad)
        ... except UnsafeCheckpointError:
        ...     print("refused")
        refused
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"safe_load: path {str(source)!r} is not an existing file")
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" not in str(error):  # torch's names what it refuses: "... global ..."
            raise _unreadable(source, error) from error
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise UnsafeCheckpointError(
            f"safe_load refused {str(source)!r}: unpickling it would run code or rebuild "
            f"objects other than tensors and plain containers ({reason}). Nothing in the "
            "file was executed. Only if you trust where the file came from, load it with "
            "torch.load(path, weights_only=False)."
        ) from None
    except (EOFError, RuntimeError, OSError, KeyError, IndexError, ValueError) as error:
        raise _unreadable(source, error) from error


def _unreadable(source: Path, error: BaseException) -> UnreadableCheckpointError:
    size = source.stat().st_size
    found = "an empty file" if size == 0 else f"{size} bytes that torch.load cannot read"
    detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
    return UnreadableCheckpointError(
        f"safe_load: {str(source)!r} is not a readable checkpoint: found {found} "
        f"({type(error).__name__}{': ' + detail if detail else ''}). It was probably cut short "
        "(a full disk, a copy that stopped) or is not a torch.save file. Restore it from a "
        "copy, or delete it (or point checkpoint_path elsewhere) to start afresh."
    )

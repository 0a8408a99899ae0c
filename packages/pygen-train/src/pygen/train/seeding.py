"""Seeding every random number generator, and capturing/restoring their states.

The states are plain dicts of tensors, lists and numbers, so they fit in a checkpoint
that :func:`pygen.train.checkpoint.safe_load` can read. numpy is handled when it is
importable and never required.
"""

from __future__ import annotations

import random
from typing import Any

import torch

__all__ = ["get_rng_state", "seed_everything", "set_rng_state"]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is optional
        return None
    return numpy


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and every CUDA device), Python's ``random`` and numpy (if present).

    Args:
        seed: a non-negative integer.

    Raises:
        ValueError: if ``seed`` is not a non-negative integer.

    Example:
        >>> import torch
        >>> from pygen.train.seeding import seed_everything
        >>> seed_everything(3)
        >>> first = torch.rand(2)
        >>> seed_everything(3)
        >>> torch.equal(first, torch.rand(2))
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed_everything: seed must be a non-negative integer, got {seed!r}")
    torch.manual_seed(seed)
    random.seed(seed)
    numpy = _numpy()
    if numpy is not None:
        numpy.random.seed(seed % (1 << 32))


def get_rng_state() -> dict[str, Any]:
    """Capture the states of torch's CPU and CUDA generators, ``random`` and numpy.

    Returns:
        A plain dict: ``"torch"`` (ByteTensor), ``"cuda"`` (list of ByteTensors, empty
        without CUDA), ``"python"`` (list) and ``"numpy"`` (dict, or None without numpy).

    Example:
        >>> import torch
        >>> from pygen.train.seeding import get_rng_state, set_rng_state
        >>> state = get_rng_state()
        >>> first = torch.rand(2)
        >>> set_rng_state(state)
        >>> torch.equal(first, torch.rand(2))
        True
    """
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "python": [version, list(internal), gauss],
        "numpy": None,
    }
    numpy = _numpy()
    if numpy is not None:
        kind, keys, position, has_gauss, cached = numpy.random.get_state()
        state["numpy"] = {
            "kind": str(kind),
            "keys": torch.from_numpy(keys.astype("int64")),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore generator states captured by :func:`get_rng_state`.

    Args:
        state: the dict returned by :func:`get_rng_state`.

    Raises:
        ValueError: if ``state`` lacks the ``"torch"`` or ``"python"`` entries.
    """
    if not isinstance(state, dict) or "torch" not in state or "python" not in state:
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            "set_rng_state: state must be a dict from get_rng_state with 'torch' and "
            f"'python'; got {found}"
        )
    torch.set_rng_state(state["torch"].cpu())
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states[: torch.cuda.device_count()]])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy = _numpy()
    saved = state.get("numpy")
    if numpy is not None and saved is not None:
        numpy.random.set_state(
            (
                saved["kind"],
                saved["keys"].numpy().astype(numpy.uint32),
                saved["position"],
                saved["has_gauss"],
                saved["cached_gaussian"],
            )
        )

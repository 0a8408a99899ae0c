"""Tests for pygen.train.seeding."""

from __future__ import annotations

import random

import pytest
import torch

from pygen.train.seeding import get_rng_state, seed_everything, set_rng_state


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_train_seeding_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(seed)


def test_train_seeding_set_rng_state_rejects_bad_state():
    with pytest.raises(ValueError, match="'torch' and 'python'; got \\['numpy'\\]"):
        set_rng_state({"numpy": None})


def test_train_seeding_restores_torch_python_and_numpy(tmp_path):
    numpy = pytest.importorskip("numpy")
    seed_everything(4)
    state = get_rng_state()
    first = (torch.rand(3), random.random(), numpy.random.rand(3))
    # the state survives a weights_only round trip
    from pygen.train.checkpoint import atomic_save, safe_load

    atomic_save(state, tmp_path / "rng.pt")
    set_rng_state(safe_load(tmp_path / "rng.pt"))
    second = (torch.rand(3), random.random(), numpy.random.rand(3))
    assert torch.equal(first[0], second[0])
    assert first[1] == second[1]
    assert (first[2] == second[2]).all()

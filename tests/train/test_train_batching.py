"""Tests for pygen.train.batching.BatchLoader."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset, StackDataset, Subset, TensorDataset

from pygen.train.batching import BatchLoader, epoch_seed


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 4, "world_size": 0}, ValueError, "world_size must be an integer >= 1"),
        ({"batch_size": 4, "rank": 2, "world_size": 2}, ValueError, "rank must be < world_size=2"),
        ({"batch_size": 11}, ValueError, "batch_size=11 for 10 example"),
        ({"batch_size": 6, "world_size": 2}, ValueError, r"per process \(world_size=2\)"),
    ],
)
def test_train_batching_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchLoader(TensorDataset(torch.arange(10)), **kwargs)


def test_train_batching_rejects_empty_and_unsized():
    with pytest.raises(ValueError, match="dataset must not be empty"):
        BatchLoader(TensorDataset(torch.zeros(0)), 1)
    with pytest.raises(TypeError, match="map-style dataset with __len__"):
        BatchLoader(iter([1, 2]), 1)


class Batched(Dataset):
    """A dataset with a batched __getitems__ returning a tuple of tensors."""

    def __init__(self, values: torch.Tensor) -> None:
        self.values = values
        self.calls = 0

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index):
        raise AssertionError("item-by-item access must not be used")

    def __getitems__(self, indices):
        self.calls += 1
        return (self.values[indices],)


class ItemByItem(Dataset):
    def __init__(self, values: torch.Tensor) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index):
        return (self.values[index],)


def _batches(dataset, **kwargs):
    return [batch[0].tolist() for batch in BatchLoader(dataset, 4, seed=3, **kwargs).batches(1)]


def test_train_batching_all_dataset_kinds_give_the_same_batches():
    values = torch.arange(10)
    reference = _batches(TensorDataset(values))
    assert len(reference) == 2
    assert all(len(batch) == 4 for batch in reference)
    batched = Batched(values)
    assert BatchLoader(batched, 4).is_fast
    assert _batches(batched) == reference
    assert batched.calls == 2
    assert _batches(StackDataset(values, values)) == reference
    assert _batches(Subset(TensorDataset(values), list(range(10)))) == reference
    assert not BatchLoader(ItemByItem(values), 4).is_fast
    assert _batches(ItemByItem(values)) == reference


def test_train_batching_subset_maps_indices():
    subset = Subset(TensorDataset(torch.arange(100)), [5, 50, 7, 70])
    loader = BatchLoader(subset, 2, shuffle=False)
    assert loader.is_fast
    assert [batch[0].tolist() for batch in loader.batches(0)] == [[5, 50], [7, 70]]


def test_train_batching_shuffle_depends_only_on_seed_and_epoch():
    loader = BatchLoader(TensorDataset(torch.arange(50)), 5, seed=9)
    assert torch.equal(loader.indices(2), loader.indices(2))
    assert not torch.equal(loader.indices(2), loader.indices(3))
    assert sorted(loader.indices(2).tolist()) == list(range(50))
    assert epoch_seed(9, 2) != epoch_seed(10, 2)


def test_train_batching_resume_start_skips_batches():
    loader = BatchLoader(TensorDataset(torch.arange(20)), 4, seed=1)
    full = [b[0].tolist() for b in loader.batches(0)]
    assert [b[0].tolist() for b in loader.batches(0, start=3)] == full[3:]


def test_train_batching_drop_last_false_keeps_the_tail():
    loader = BatchLoader(TensorDataset(torch.arange(10)), 4, shuffle=False, drop_last=False)
    assert len(loader) == 3
    assert [b[0].tolist() for b in loader.batches(0)][-1] == [8, 9]


def test_train_batching_ranks_together_form_the_single_process_batches():
    data = TensorDataset(torch.arange(37))
    single = [b[0] for b in BatchLoader(data, 6, seed=2).batches(4)]
    shards = [
        [b[0] for b in BatchLoader(data, 3, seed=2, rank=rank, world_size=2).batches(4)]
        for rank in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == len(single) == 6
    for number, batch in enumerate(single):
        together = torch.cat([shards[0][number], shards[1][number]])
        assert sorted(together.tolist()) == sorted(batch.tolist())


def test_train_batching_tensors_already_on_the_device_are_not_moved():
    data = TensorDataset(torch.arange(6.0), torch.arange(6))
    assert not BatchLoader(data, 3, device="cpu")._move
    assert BatchLoader(data, 3, device="meta")._move
    (x, y), _ = BatchLoader(data, 3, shuffle=False, device="cpu").batches(0)
    assert x.device.type == "cpu"
    assert x.tolist() == [0.0, 1.0, 2.0]
    assert y.tolist() == [0, 1, 2]
    moved = next(iter(BatchLoader(data, 3, device="meta").batches(0)))
    assert moved[0].device.type == "meta"


def test_train_batching_fetches_what_indexing_gives_for_every_layout():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(12, 3, 4, 5, generator=generator)
    layouts = {
        "contiguous": images,
        "channels_last": images.to(memory_format=torch.channels_last),
        "transposed": images.transpose(2, 3),
        "sliced": torch.rand(12, 10, generator=generator)[:, ::3],
    }
    for name, tensor in layouts.items():
        loader = BatchLoader(TensorDataset(tensor, torch.arange(12)), 5, seed=4)
        order = loader.indices(0)
        for number, (x, y) in enumerate(loader.batches(0)):
            index = order[number * 5 : (number + 1) * 5]
            assert torch.equal(x, tensor[index]), name
            assert x.stride() == tensor[index].stride(), name  # channels_last stays so
            assert torch.equal(y, index), name

"""RunningMetrics (pygen.train._metrics): kept batches read into per-batch means and sums."""

from __future__ import annotations

import math

import pytest
import torch

from pygen.train._metrics import RunningMetrics
from pygen.train.history import MetricsHistory


def kept_batches(sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [
        (torch.randn(size, generator=generator), torch.rand(size, generator=generator) > 0.5)
        for size in sizes
    ]


@pytest.mark.parametrize("sizes", [[4, 4, 4], [4, 4, 3], [8, 4]])  # equal, short last, mixed
def test_train_metrics_flush_gives_each_batch_mean_and_the_running_sums(sizes):
    running = RunningMetrics()
    running.names, running.numel = ("log_prob", "accuracy"), 2
    running.reset()
    batches = kept_batches(sizes)
    for number, (value, correct) in enumerate(batches, start=1):
        running.add([value, correct], len(value), 0, number, number)
    assert running.pending == len(sizes)
    history = MetricsHistory()
    running.flush(history)
    assert running.pending == 0
    assert [record["batch"] for record in history.batches] == list(range(1, len(sizes) + 1))
    for record, (value, correct) in zip(history.batches, batches, strict=True):
        mean = value.double().mean().item()
        assert record["log_prob"] == pytest.approx(mean, rel=1e-12)
        assert record["accuracy"] == pytest.approx(correct.double().mean().item(), rel=1e-12)
        assert record["bits_per_dim"] == pytest.approx(-mean / (2 * math.log(2)), rel=1e-12)
    everything = torch.cat([value for value, _ in batches]).double()
    assert running.sums[0] == pytest.approx(everything.sum().item(), rel=1e-12)
    assert running.sums[1] == sum(int(correct.sum()) for _, correct in batches)
    assert running.examples == sum(sizes)
    assert running.batches == len(sizes)
    means = [record["log_prob"] for record in history.batches]
    assert running.total_objective == pytest.approx(sum(means), rel=1e-12)


def test_train_metrics_sums_do_not_depend_on_when_the_batches_were_read():
    batches = kept_batches([5, 5, 5, 5, 2])
    sums = []
    for every in (1, 2, 5):
        running = RunningMetrics()
        running.names, running.numel = ("log_prob", "accuracy"), None
        running.reset()
        for number, (value, correct) in enumerate(batches, start=1):
            running.add([value, correct], len(value), 0, number, number)
            if running.pending == every:
                running.flush(MetricsHistory())
        running.flush(MetricsHistory())
        sums.append((running.sums, running.total_objective))
    assert sums[0] == sums[1] == sums[2]  # exactly: a resumed run's epoch means match

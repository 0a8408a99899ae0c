"""The metric arithmetic shared by training, validation and ``evaluate``.

Per-example tensors of each batch are kept, detached and on their device, until the
logging interval (or until someone reads a batch metric); then one transfer turns them
into per-batch means, history records and the epoch's running sums. So a step forces no
device-to-host copy of its metrics on CUDA.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from pygen.train.history import MetricsHistory
from pygen.train.metric_names import bits_per_dim_name
from pygen.train.objective import Objective

__all__: list[str] = []

LN2 = math.log(2.0)


def bits_metrics(means: Mapping[str, float], numel: int | None) -> dict[str, float]:
    """Bits per dimension of each likelihood or bound in ``means`` (none without ``D``)."""
    if numel is None:
        return {}
    derived = {}
    for key, value in means.items():
        name = bits_per_dim_name(key)
        if name is not None:
            derived[name] = -value / (numel * LN2)
    return derived


def _batch_sums(pending: list[list[torch.Tensor]], sizes: list[int]) -> list[list[float]]:
    """Per batch (of ``sizes`` examples), the sum of each metric; one device-to-host transfer.

    Each column (a metric over the pending batches) is concatenated and summed per batch
    in double precision: a few operations per column, whatever the number of batches.
    """
    equal = sizes.count(sizes[0]) == len(sizes)
    sums = []
    for j in range(len(pending[0])):
        values = torch.cat([row[j] for row in pending]).double()
        if equal:  # the usual case: one sum over a [batches, batch size] view
            sums.append(values.view(len(sizes), sizes[0]).sum(-1))
        else:  # a short batch (drop_last=False) or an accumulated update among them
            sums.append(torch.stack([part.sum() for part in values.split(sizes)]))
    return torch.stack(sums, dim=1).tolist()


def _bits_names(names: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(metric, its bits-per-dimension name)`` for the likelihoods and bounds."""
    pairs = [(name, bits_per_dim_name(name)) for name in names]
    return [(name, bits) for name, bits in pairs if bits is not None]


class RunningMetrics:
    """The epoch's running per-example sums, and the batches not yet read from the device.

    Attributes:
        names: the metric names, the objective's first.
        sums: per name, the sum over the epoch's examples so far.
        examples: the examples summed.
        batches: the batches summed (skipped ones excluded).
        total_objective: the sum of the batch means of the objective (the legacy
            ``total_log_prob``).
        skipped: batches skipped as non-finite this epoch.
        last: the last batch's means (and bits per dimension).
    """

    def __init__(self) -> None:
        self.names: tuple[str, ...] = ()
        self.numel: int | None = None
        self.sums: list[float] = []
        self.examples = 0
        self.batches = 0
        self.total_objective = 0.0
        self.skipped = 0
        self.last: dict[str, float] = {}
        self._pending: list[list[torch.Tensor]] = []
        self._records: list[tuple[int, int, int, int]] = []  # epoch, batch, step, examples

    def reset(self) -> None:
        """Start a new epoch (pending batches must have been flushed)."""
        assert not self._pending
        self.sums = [0.0] * len(self.names)
        self.examples = 0
        self.batches = 0
        self.total_objective = 0.0
        self.skipped = 0

    def add(
        self,
        tensors: list[torch.Tensor],
        size: int,
        epoch: int,
        batch: int,
        step: int,
    ) -> None:
        """Keep one batch's detached per-example tensors (in ``names`` order)."""
        self._pending.append(tensors)
        self._records.append((epoch, batch, step, size))

    def flush(self, history: MetricsHistory) -> None:
        """Read the pending batches (one transfer) into the sums and ``history``."""
        if not self._pending:
            return
        records = self._records
        sizes = [record[3] for record in records]
        rows = _batch_sums(self._pending, sizes)
        names = self.names
        scale = -1.0 / (self.numel * LN2) if self.numel else 0.0
        bits = _bits_names(names) if self.numel else []
        sums, total = self.sums, self.total_objective
        for row, (epoch, batch, step, size) in zip(rows, records, strict=True):
            means = {name: value / size for name, value in zip(names, row, strict=True)}
            for name, bits_name in bits:
                means[bits_name] = means[name] * scale
            for index, value in enumerate(row):  # one batch at a time, in order, so the
                sums[index] += value  # sums do not depend on when they were flushed
            total += means[names[0]]
            self.last = means
            history.add_batch({"epoch": epoch, "batch": batch, "step": step, **means})
        self.total_objective = total
        self.examples += sum(sizes)
        self.batches += len(records)
        self._pending.clear()
        self._records.clear()

    @property
    def pending(self) -> int:
        """The number of batches not read from the device yet."""
        return len(self._pending)

    def state_dict(self) -> dict[str, Any]:
        """The running sums as plain numbers (flush first)."""
        assert not self._pending
        return {
            "names": list(self.names),
            "numel": self.numel,
            "sums": list(self.sums),
            "examples": self.examples,
            "batches": self.batches,
            "total_objective": self.total_objective,
            "skipped": self.skipped,
            "last": dict(self.last),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.names = tuple(state["names"])
        self.numel = state["numel"]
        self.sums = list(state["sums"])
        self.examples = state["examples"]
        self.batches = state["batches"]
        self.total_objective = state["total_objective"]
        self.skipped = state["skipped"]
        self.last = dict(state["last"])


def means_from_sums(
    names: Iterable[str], sums: list[float], examples: float, numel: int | None, prefix: str = ""
) -> dict[str, float]:
    """Mean per example of each metric, with bits per dimension, names prefixed."""
    means = {
        name: value / examples if examples > 0 else math.nan
        for name, value in zip(names, sums, strict=True)
    }
    means.update(bits_metrics(means, numel))
    return {f"{prefix}{name}": value for name, value in means.items()}


def evaluation_sums(
    objective: Objective, model: Any, batches: Iterable[Any], where: str
) -> tuple[tuple[str, ...], list[float], int, int | None]:
    """Sum the objective and its metrics over ``batches`` without gradients.

    Returns:
        ``(names, sums, examples, numel)``: the metric names (the objective's first),
        their sums over all examples, the example count and ``D`` for bits per dimension.
    """
    names: tuple[str, ...] = ()
    totals: torch.Tensor | None = None
    examples = 0
    numel: int | None = None
    with torch.no_grad():
        for batch in batches:
            if totals is None:
                objective.check_item(batch, f"{where}: batches")
                numel = objective.event_numel(batch)
            value, metrics = objective.checked(model, batch, where)
            row = torch.stack([value.double().sum(), *(m.double().sum() for m in metrics.values())])
            if totals is None:
                names = (objective.name, *metrics)
                totals = row
            else:
                totals = totals + row
            examples += len(value)
    assert totals is not None, "evaluation over no batches"
    return names, totals.cpu().tolist(), examples, numel


class EvalMode:
    """Puts every submodule in eval mode and restores each one's flag afterwards."""

    def __init__(self, trainable: Any) -> None:
        self.modules = list(trainable.modules()) if isinstance(trainable, torch.nn.Module) else []
        self.flags = [module.training for module in self.modules]

    def __enter__(self) -> None:
        for module in self.modules:
            module.training = False

    def __exit__(self, *exc: object) -> None:
        for module, flag in zip(self.modules, self.flags, strict=True):
            module.training = flag

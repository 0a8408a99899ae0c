"""One optimizer update, from the batches it accumulates to ``optimizer.step``.

The loop hands :class:`OptimizerUpdate` the ``accumulate_grad_batches`` batches of one
update and gets back an :class:`UpdateResult`; it only counts and dispatches. Here:

* forward (under autocast with ``amp``) and backward of minus each batch's mean over its
  divisor, so that the update is that of one batch of all the examples;
* under DistributedDataParallel, ``no_sync`` for every batch but the last, so gradients
  are all-reduced once per update;
* the non-finite check of each batch's mean (one number read from the device per batch),
  shared with the stop signal and the clock in one all-reduce, so every rank decides
  alike (skip, raise or stop) at the same step;
* the AMP gradient scaler, gradient clipping and ``optimizer.step``.

A non-finite update takes no step and leaves its gradients for the caller, which raises
or skips.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pygen.train._checkpoint_checks import check_metric_names
from pygen.train._forward import FirstCallCheck
from pygen.train._signals import DeferredSignals
from pygen.train.distributed import DistributedContext
from pygen.train.objective import Objective

__all__: list[str] = []

Forward = Callable[[Any], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass(frozen=True, slots=True)
class NonFinite:
    """The first batch of an update whose mean objective is NaN or infinite.

    Attributes:
        batch: its 1-based index within the update.
        value: its mean.
        ranks: the ranks with a non-finite batch (None for a single process).
    """

    batch: int
    value: float
    ranks: tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What one update did.

    Attributes:
        names: the metric names, the objective's first.
        tensors: per name, the detached per-example values of the update's batches (on
            the device, not read; of the first batch only when not stepped).
        nonfinite: None, or the non-finite batch that stopped the step being taken.
        stop_signal: a stop signal received (on any rank), 0 for none.
        out_of_time: the time limit has passed (on any rank's clock).
    """

    names: tuple[str, ...]
    tensors: tuple[torch.Tensor, ...]
    nonfinite: NonFinite | None
    stop_signal: int
    out_of_time: bool

    @property
    def stepped(self) -> bool:
        """Whether the optimizer stepped (False: skipped as non-finite)."""
        return self.nonfinite is None


class OptimizerUpdate:
    """Runs the optimizer updates of one :meth:`train` call.

    Args:
        trainable: the model (its parameters are clipped).
        objective: what is maximised (checked on the first update's batches).
        optimizer: steps the parameters.
        forward: ``batch -> (per-example value, {name: per-example tensor})``, see
            :func:`pygen.train._forward.build_forward`.
        ddp: the DistributedDataParallel wrapper inside ``forward``, or None.
        context: the ranks to agree with.
        device: the model's device.
        amp_dtype: the autocast dtype, None for full precision.
        scaler: the fp16 gradient scaler, or None.
        grad_clip_norm: clip the global gradient norm to this (None: no clipping).
        check_finite: check each batch's mean before the step.
        signals: the stop signals received so far.
        deadline: the :func:`time.monotonic` time after which the run is out of time.
        metric_names: the names the run's metrics were logged under so far (a resumed
            run's; empty for a fresh one); the first update refuses others.
        where: the trainer's name, for error messages.
    """

    def __init__(
        self,
        trainable: nn.Module,
        objective: Objective,
        optimizer: torch.optim.Optimizer,
        forward: Forward,
        ddp: Any,
        context: DistributedContext,
        device: torch.device,
        *,
        amp_dtype: torch.dtype | None,
        scaler: torch.amp.GradScaler | None,
        grad_clip_norm: float | None,
        check_finite: bool,
        signals: DeferredSignals,
        deadline: float | None,
        metric_names: tuple[str, ...],
        where: str,
    ) -> None:
        self.trainable = trainable
        self.objective = objective
        self.optimizer = optimizer
        self.forward: Forward | None = FirstCallCheck(self, forward, objective.name, where)
        self.ddp = ddp
        self.context = context
        self.distributed = context.is_distributed
        self.device = device
        self.amp_dtype = amp_dtype
        self.scaler = scaler
        self.grad_clip_norm = grad_clip_norm
        self.check_finite = check_finite
        self.signals = signals
        self.deadline = deadline
        self.metric_names = metric_names
        self.where = where
        self._first = True

    def __call__(self, batches: list[Any], divisors: list[float] | None = None) -> UpdateResult:
        """One update from ``batches``.

        Batch ``i``'s loss is its mean over ``divisors[i]`` (default: the batch count), so
        the update is that of one batch of all the examples.

        Raises:
            TypeError, ValueError: at the first update, for batches or objective values
                the objective cannot use, or metric names unlike ``metric_names``.
        """
        count = len(batches)
        if self._first:
            self.objective.check_item(batches[0], f"{self.where}: batches")
        self.optimizer.zero_grad(set_to_none=True)
        bad, bad_value = 0, 0.0
        rows: list[list[torch.Tensor]] = []  # per batch, when accumulating
        tensors: tuple[torch.Tensor, ...] = ()
        if count == 1:  # the common case, without the accumulation's bookkeeping
            value, metrics, mean = self._forward_backward(batches[0], 1)
            tensors = (value.detach(), *map(torch.Tensor.detach, metrics.values()))
            if self.check_finite:  # the non-finite guard: one number per batch
                item = mean.item()
                if not math.isfinite(item):
                    bad, bad_value = 1, item
        else:
            for index, batch in enumerate(batches):
                divisor = count if divisors is None else divisors[index]
                if self.ddp is not None and index < count - 1:  # all-reduce at the last only
                    with self.ddp.no_sync():
                        value, metrics, mean = self._forward_backward(batch, divisor)
                else:
                    value, metrics, mean = self._forward_backward(batch, divisor)
                rows.append([value.detach(), *(tensor.detach() for tensor in metrics.values())])
                if self.check_finite:
                    item = mean.item()
                    if not bad and not math.isfinite(item):
                        bad, bad_value = index + 1, item
        names = (self.objective.name, *metrics)
        if self._first:
            check_metric_names(self.metric_names, names)
            self._first = False
        signum = self.signals.received
        out_of_time = self.deadline is not None and time.monotonic() >= self.deadline
        ranks: tuple[int, ...] | None = None
        if self.distributed:
            bad, bad_value, ranks, signum, out_of_time = self._agree(
                bad, bad_value, signum, out_of_time
            )
        if bad:  # a skipped update reports its first batch
            nonfinite = NonFinite(bad, bad_value, ranks)
            first = tuple(rows[0]) if rows else tensors
            return UpdateResult(names, first, nonfinite, signum, out_of_time)
        self._step()
        if rows:
            tensors = tuple(torch.cat(column) for column in zip(*rows, strict=True))
        return UpdateResult(names, tensors, None, signum, out_of_time)

    def _forward_backward(
        self, batch: Any, count: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """The objective of one batch and the backward pass of ``-mean / count``."""
        forward = self.forward
        assert forward is not None, "the update was closed"
        if self.amp_dtype is not None:
            with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype):
                value, metrics = forward(batch)
        else:
            value, metrics = forward(batch)
        mean = value.mean()
        loss = -mean if count == 1 else -mean / count
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        return value, metrics, mean

    def _step(self) -> None:
        """Clip (unscaled first under fp16) and step."""
        optimizer, scaler, clip = self.optimizer, self.scaler, self.grad_clip_norm
        if scaler is not None:
            if clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(self.trainable.parameters(), clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            if clip is not None:
                nn.utils.clip_grad_norm_(self.trainable.parameters(), clip)
            optimizer.step()

    def _agree(
        self, bad: int, bad_value: float, signum: int, out_of_time: bool
    ) -> tuple[int, float, tuple[int, ...] | None, int, bool]:
        """Share each rank's non-finite batch, signal and clock; every rank decides alike."""
        size, rank = self.context.world_size, self.context.rank
        flags = [0.0] * (4 * size)
        flags[rank] = float(bad)
        flags[size + rank] = bad_value if bad else 0.0
        flags[2 * size + rank] = float(signum)
        flags[3 * size + rank] = float(out_of_time)
        shared = self.context.sum(flags, self.device)
        bad_ranks = tuple(rank for rank in range(size) if shared[rank])
        first = min(bad_ranks, key=lambda rank: shared[rank]) if bad_ranks else -1
        signals = [int(value) for value in shared[2 * size : 3 * size] if value]
        return (
            int(shared[first]) if bad_ranks else 0,
            shared[size + first] if bad_ranks else 0.0,
            bad_ranks if bad_ranks else None,
            signals[0] if signals else 0,
            any(shared[3 * size :]),
        )

    def close(self) -> None:
        """Drop the model wrappers (DistributedDataParallel before its process group)."""
        self.forward = None
        self.ddp = None

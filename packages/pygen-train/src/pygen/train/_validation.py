"""Validation: the validation objective over the validation data, as ``val_*`` metrics.

Checked at construction (the dataset and its first item), then on one validation batch
before the first training step (:func:`pygen.train._preflight.check_validation_batch`),
so a mistake that would only show at the first validation costs no epoch. A full pass
runs in eval mode, under the EMA weights when they are kept, with the random number
generators forked (validating, even a sampling objective such as an ELBO, does not change
what training draws), and is summed over all ranks.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

from pygen.train._metrics import EvalMode, evaluation_sums, means_from_sums
from pygen.train._options import check_dataset
from pygen.train._preflight import check_validation_batch
from pygen.train.batching import BatchLoader
from pygen.train.distributed import DistributedContext
from pygen.train.ema import ExponentialMovingAverage
from pygen.train.metric_names import bits_per_dim_name
from pygen.train.objective import Objective

__all__: list[str] = []


class Validation:
    """A trainer's validation data and objective.

    Args:
        dataset: the validation data (map-style, non-empty).
        objective: evaluated on it.
        training_objective: the trainer's objective (decides the reported name).
        trainable: the model (checked against ``objective``).
        batch_size: examples per batch (per process).
        context: the ranks to shard over and sum across.
        num_workers: DataLoader workers for a full pass.
        check_finite: refuse a non-finite first validation batch.
        where: the trainer's name, for error messages.

    Attributes:
        name: the name the value is reported under (``val_`` + it); final after
            :meth:`check_first_batch`.

    Raises:
        TypeError, ValueError: for a dataset or items the objective cannot use.
    """

    def __init__(
        self,
        dataset: Any,
        objective: Objective,
        training_objective: Objective,
        trainable: nn.Module,
        *,
        batch_size: int,
        context: DistributedContext,
        num_workers: int,
        check_finite: bool,
        where: str,
    ) -> None:
        check_dataset(where, "validation_dataset", dataset)
        objective.check_model(trainable, where)
        objective.check_item(dataset[0], f"{where}: validation_dataset items")
        self.dataset = dataset
        self.objective = objective
        self.training_objective = training_objective
        self.batch_size = batch_size
        self.context = context
        self.num_workers = num_workers
        self.check_finite = check_finite
        self.where = where
        self.name = objective.name

    def _loader(self, device: torch.device, num_workers: int) -> BatchLoader:
        return BatchLoader(
            self.dataset,
            self.batch_size,
            shuffle=False,
            drop_last=False,
            rank=self.context.rank,
            world_size=self.context.world_size,
            device=device,
            num_workers=num_workers,
        )

    def check_first_batch(self, model: nn.Module, device: torch.device) -> None:
        """The objective on one validation batch, before the first training step.

        Raises:
            TypeError, ValueError: what the first validation would raise (see
                :func:`pygen.train._preflight.check_validation_batch`).
        """
        loader = self._loader(device, num_workers=0)  # one batch: no worker start-up
        self.name = check_validation_batch(
            self.objective,
            self.training_objective,
            model,
            next(iter(loader.batches(0))),
            self.where,
            check_finite=self.check_finite,
        )

    def __call__(
        self, model: nn.Module, ema: ExponentialMovingAverage | None, device: torch.device
    ) -> dict[str, float]:
        """One pass over the validation data (under ``ema``'s weights if given): ``val_*``."""
        loader = self._loader(device, self.num_workers)
        devices = [device] if device.type == "cuda" else []
        with (
            torch.random.fork_rng(devices=devices),
            EvalMode(model),
            ema.applied() if ema is not None else contextlib.nullcontext(),
        ):
            names, sums, examples, numel = evaluation_sums(
                self.objective, model, loader.batches(0), f"{self.where} validation"
            )
        reduced = self.context.sum([*sums, float(examples)], device)
        val = means_from_sums(names, reduced[:-1], reduced[-1], numel, "val_")
        if self.name != names[0]:  # the value is under its own name (val_iwae_10) only
            hidden = {f"val_{names[0]}", f"val_{bits_per_dim_name(names[0])}"}
            val = {key: value for key, value in val.items() if key not in hidden}
        return val

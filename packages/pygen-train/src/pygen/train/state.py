"""What a callback sees: the public state of a running trainer.

:class:`TrainerState` is a :class:`typing.Protocol`: the trainers
(:class:`~pygen.train.train.DistributionTrainer`, :class:`~pygen.train.train.LayerTrainer`)
satisfy it, and callbacks are typed against it, so a callback written for pygen can be
tested with any object carrying these attributes.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

import torch
from torch import nn

from pygen.train.history import MetricsHistory
from pygen.train.objective import Objective

__all__ = ["StopReason", "TrainerState"]

StopReason = Literal["max_epoch", "max_steps", "time_limit", "should_stop"]


@runtime_checkable
class TrainerState(Protocol):
    """The attributes every hook can read (and ``should_stop``, which it may set).

    Attributes:
        trainable: the module being trained (never the DDP wrapper); alias ``model``.
        optimizer: the optimizer. ``scheduler``: the scheduler or None.
        device: where the model and batches live.
        objective: the :class:`~pygen.train.objective.Objective` maximised; its
            ``name`` is the key of the maximised value in the metrics.
        epoch: 0-based index of the current epoch; alias ``epoch_num``.
        batch_num: batches done over the run; 1 after the first batch.
        global_step: optimizer updates taken (``accumulate_grad_batches`` batches each).
        max_epoch, max_steps: the limits (``max_steps`` None: no limit).
        batch_metrics: the last update's means per example: the objective's name
            (``"log_prob"`` for the built-in trainers), every metric the objective
            returns (``"accuracy"`` for categorical layers, ``"kl"``, ...), and bits
            per dimension of likelihoods and bounds.
        log_prob_item: ``batch_metrics["log_prob"]`` (NaN when the objective reports no
            exact log-likelihood).
        total_log_prob, batch_len: the sum of this epoch's batch means of the
            log-likelihood (NaN unless the objective is ``"log_prob"``), and the updates
            so far this epoch.
        metrics: the finished epoch's means (as ``batch_metrics``, over the epoch's
            examples, averaged over ranks), ``"lr"``, ``"skipped_batches"`` (with
            ``skip_nonfinite``) and the last validation's ``val_*`` figures.
        val_metrics: the last validation's ``val_*`` figures (set before
            ``on_validation_end``).
        history: the :class:`~pygen.train.history.MetricsHistory`.
        rank, world_size, is_main_process: where this process sits under ``torchrun``.
        should_stop: set it True to stop after the current epoch.
        stop_reason: why the last :meth:`train` ended (None while running).

    Example:
        >>> import torch
        >>> from torch.utils.data import TensorDataset
        >>> from pygen.train import DistributionTrainer, TrainerState
        >>> class Gaussian(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.loc = torch.nn.Parameter(torch.zeros(()))
        ...
        ...     def log_prob(self, x):
        ...         return torch.distributions.Normal(self.loc, 1.0).log_prob(x)
        >>> trainer = DistributionTrainer(Gaussian(), TensorDataset(torch.randn(8)), 4, 1)
        >>> isinstance(trainer, TrainerState)
        True
    """

    trainable: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    device: torch.device
    objective: Objective
    max_epoch: int
    max_steps: int | None
    rank: int
    world_size: int
    is_main_process: bool
    should_stop: bool

    @property
    def model(self) -> nn.Module: ...

    @property
    def epoch(self) -> int: ...

    @property
    def epoch_num(self) -> int: ...

    @property
    def batch_num(self) -> int: ...

    @property
    def global_step(self) -> int: ...

    @property
    def batch_metrics(self) -> dict[str, float]: ...

    @property
    def log_prob_item(self) -> float: ...

    @property
    def total_log_prob(self) -> float: ...

    @property
    def batch_len(self) -> int: ...

    @property
    def metrics(self) -> dict[str, float]: ...

    @property
    def val_metrics(self) -> dict[str, float]: ...

    @property
    def history(self) -> MetricsHistory: ...

    @property
    def stop_reason(self) -> StopReason | None: ...

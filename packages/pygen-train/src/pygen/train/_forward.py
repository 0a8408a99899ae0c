"""How the trainer calls the objective: an ``nn.Module`` adapter and a first-call check."""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from pygen.train._preflight import check_trainable_value
from pygen.train.distributed import DistributedContext
from pygen.train.objective import Objective

__all__: list[str] = []


class ObjectiveModule(nn.Module):
    """``forward(batch)`` is the objective of the trainable on ``batch``.

    DistributedDataParallel synchronises gradients only for work done inside
    ``forward``; a distribution's ``log_prob`` is not ``forward``, hence this adapter.
    """

    def __init__(self, trainable: nn.Module, objective: Objective, where: str) -> None:
        super().__init__()
        self.trainable = trainable
        self.objective = objective
        self.where = where

    def forward(self, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.objective.checked(self.trainable, batch, self.where)


class FirstCallCheck:
    """Calls ``forward``, checks the value, then puts ``forward`` back on ``owner``."""

    def __init__(self, owner: Any, forward: Any, name: str, where: str) -> None:
        self.owner = owner
        self.forward = forward
        self.name = name
        self.where = where

    def __call__(self, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        value, metrics = self.forward(batch)
        check_trainable_value(value, self.name, self.where)
        self.owner.forward = self.forward
        return value, metrics


def build_forward(
    trainable: nn.Module,
    objective: Objective,
    context: DistributedContext,
    device: torch.device,
    *,
    compile: bool,
    where: str,
) -> tuple[Any, Any]:
    """The objective as the trainer calls it, and the DistributedDataParallel inside (or None).

    Under ``torchrun`` (or with ``compile``) the :class:`ObjectiveModule` is wrapped and
    called as a module; otherwise the objective is called directly, without a second
    ``nn.Module`` call (or its submodule lookup) per step.
    """
    if not (context.is_distributed or compile):
        return functools.partial(objective.checked, trainable, where=where), None
    wrapped = context.wrap(ObjectiveModule(trainable, objective, where), device)
    return (torch.compile(wrapped) if compile else wrapped), (
        wrapped if context.is_distributed else None
    )

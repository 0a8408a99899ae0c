"""Data-parallel training under ``torchrun``, detected from the environment.

``torchrun`` (``python -m torch.distributed.run``) starts one process per worker and sets
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``. :class:`DistributedContext` reads them and,
when there is more than one process, starts the process group (``gloo`` for CPU models,
``nccl`` for CUDA ones) unless the program already did, puts a CUDA model on the GPU
numbered ``LOCAL_RANK``, wraps the model in
:class:`torch.nn.parallel.DistributedDataParallel` (gradients are all-reduced and
averaged during ``backward``), and sums metrics across ranks. The trainer uses it so a
program written for one process runs data-parallel unchanged; only rank 0 writes files
and progress.

Elastic restarts (``torchrun --max-restarts=N``): when a worker dies, torchrun stops the
others and starts them all again, and the trainer resumes from its last checkpoint. The
new workers meet in the store torchrun's agent keeps for the whole job
(``TORCHELASTIC_USE_AGENT_STORE=True``). Under the same keys there as the workers they
replace, they read the dead workers' addresses, and the restarted process group fails to
connect or hangs: torch 2.15's ``env://`` does that, where torch 2.4's prefixed the keys
with the restart count. So the process group of each restart keeps its keys under its
own prefix, ``pygen/attempt_<restart count>``, whatever the torch version.
The restart count is each node's own, so on several nodes, where one node can be
restarted without a failure of its own and count differently, launch with
``TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1``: every restart then gets a fresh store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DistributedContext"]


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"DistributedContext: environment variable {name} must be an integer, got {raw!r}"
        ) from None


# torch's default for a process group's store (torch.distributed.constants.default_pg_timeout)
_STORE_TIMEOUT = timedelta(minutes=30)


def _attempt_store(env: Mapping[str, str], world_size: int) -> dist.Store | None:
    """This torchrun restart's own keys in the agent's store; None outside that case.

    Under torchrun with the agent's store every rank is a client of the store at
    ``MASTER_ADDR:MASTER_PORT``, which outlives the workers of a failed attempt.
    """
    if env.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    if not env.get("MASTER_ADDR") or not env.get("MASTER_PORT"):
        return None  # env:// then names what is missing
    attempt = _env_int(env, "TORCHELASTIC_RESTART_COUNT", 0)
    store = dist.TCPStore(
        env["MASTER_ADDR"],
        _env_int(env, "MASTER_PORT", 0),
        world_size,
        is_master=False,
        timeout=_STORE_TIMEOUT,
    )
    return dist.PrefixStore(f"pygen/attempt_{attempt}", store)


class DistributedContext:
    """Where this process sits in a data-parallel job (a single process by default).

    Args:
        rank: this process's global rank.
        world_size: the number of processes.
        local_rank: this process's index on its machine (selects its GPU).

    Raises:
        ValueError: if the numbers are inconsistent.

    Example:
        >>> from pygen.train.distributed import DistributedContext
        >>> context = DistributedContext.from_environment({})
        >>> context.world_size, context.is_distributed, context.is_main_process
        (1, False, True)
        >>> context = DistributedContext.from_environment(
        ...     {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}
        ... )
        >>> context.rank, context.is_main_process
        (1, False)
    """

    def __init__(self, rank: int = 0, world_size: int = 1, local_rank: int = 0) -> None:
        if world_size < 1:
            raise ValueError(f"DistributedContext: world_size must be >= 1, got {world_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"DistributedContext: rank must be in [0, {world_size}), got {rank}")
        if local_rank < 0:
            raise ValueError(f"DistributedContext: local_rank must be >= 0, got {local_rank}")
        self.rank = rank
        self.world_size = world_size
        self.local_rank = local_rank
        self._owns_group = False
        self._last_reduced: torch.Tensor | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> DistributedContext:
        """Read ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (as ``torchrun`` sets them).

        An already initialised process group takes precedence over the environment.

        Args:
            env: the environment to read (default: ``os.environ``).

        Returns:
            The context; a single process when the variables are absent.

        Raises:
            ValueError: if a variable is not an integer or the values are inconsistent.
        """
        if env is None and dist.is_available() and dist.is_initialized():
            local = _env_int(os.environ, "LOCAL_RANK", 0)
            return cls(dist.get_rank(), dist.get_world_size(), local)
        source = os.environ if env is None else env
        world_size = _env_int(source, "WORLD_SIZE", 1)
        rank = _env_int(source, "RANK", 0)
        local_rank = _env_int(source, "LOCAL_RANK", rank if world_size > 1 else 0)
        return cls(rank, world_size, local_rank)

    @property
    def is_distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main_process(self) -> bool:
        """True on rank 0 (the only rank that writes files and progress)."""
        return self.rank == 0

    def setup(self, device: torch.device) -> torch.device:
        """Start the process group if needed; return the device this rank trains on.

        Args:
            device: the model's device. A CUDA model moves to ``cuda:LOCAL_RANK``.

        Returns:
            The device for this rank.

        Raises:
            RuntimeError: if distributed training was requested but
                ``torch.distributed`` is unavailable.
        """
        if not self.is_distributed:
            return device
        if not dist.is_available():
            raise RuntimeError(
                f"WORLD_SIZE={self.world_size} asks for distributed training, but this torch "
                "build has no torch.distributed"
            )
        if device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            backend = "nccl" if device.type == "cuda" else "gloo"
            store = _attempt_store(os.environ, self.world_size)
            if store is None:
                dist.init_process_group(backend=backend)
            else:
                dist.init_process_group(
                    backend=backend, store=store, rank=self.rank, world_size=self.world_size
                )
            self._owns_group = True
        return device

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """Wrap ``module`` in DistributedDataParallel (unchanged for a single process)."""
        if not self.is_distributed:
            return module
        device_ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=device_ids)

    @staticmethod
    def reduction_device(device: torch.device) -> torch.device:
        """Where a model on ``device`` has its numbers summed across ranks.

        A CUDA model's on its GPU (``nccl`` reduces GPU tensors), any other on the CPU
        (``gloo``).

        Args:
            device: the model's device.

        Returns:
            ``device`` for a CUDA device, else the CPU.

        Example:
            >>> import torch
            >>> from pygen.train.distributed import DistributedContext
            >>> DistributedContext.reduction_device(torch.device("meta"))
            device(type='cpu')
        """
        return device if device.type == "cuda" else torch.device("cpu")

    def sum(self, values: Sequence[float], device: torch.device) -> list[float]:
        """Sum ``values`` element-wise over all ranks (returned unchanged for one process).

        Args:
            values: numbers to add up across ranks.
            device: the model's device; the sum is built on its
                :meth:`reduction_device`.

        Returns:
            The element-wise sums, as floats (float64 accumulation).
        """
        if not self.is_distributed:
            return list(values)
        tensor = torch.tensor(
            list(values), dtype=torch.float64, device=self.reduction_device(device)
        )
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        # Keep the tensor alive until the group is gone (see shutdown).
        self._last_reduced = tensor
        return tensor.tolist()

    def barrier(self) -> None:
        """Wait for every rank (no-op for one process)."""
        if self.is_distributed:
            dist.barrier()

    def shutdown(self) -> None:
        """Destroy the process group if :meth:`setup` created it."""
        if self._owns_group and dist.is_initialized():
            # Every rank arrives before any tears the group down. With gloo (seen with
            # torch 2.4) a finished collective is freed by a gloo worker thread, which
            # needs the GIL if it drops the last reference to a tensor Python made, while
            # destroy_process_group joins that thread holding the GIL: a deadlock. So the
            # last tensor we reduced stays referenced here until the group is destroyed.
            dist.barrier()
            dist.destroy_process_group()
        self._owns_group = False
        self._last_reduced = None

    def __repr__(self) -> str:
        return (
            f"DistributedContext(rank={self.rank}, world_size={self.world_size}, "
            f"local_rank={self.local_rank})"
        )

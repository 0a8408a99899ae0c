"""The errors training ends with: a non-finite objective, and preemption by a signal."""

from __future__ import annotations

from typing import Any

__all__ = ["NonFiniteLogProbError", "TrainingPreempted"]


class NonFiniteLogProbError(FloatingPointError):
    """The mean of the training objective (the log-likelihood) of a batch was NaN or inf.

    The trainer raises it before the optimizer step, so parameters are those of the last
    good batch and the last checkpoint on disk is untouched. The message names the epoch,
    the batch within the epoch, the global batch number and, under ``torchrun``, the
    rank(s) whose batch it was; every rank raises it at the same step, so none is left
    waiting. Pass ``skip_nonfinite=True`` to the trainer to skip such updates instead (on
    every rank together; they are counted in the ``"skipped_batches"`` metric).

    Attributes:
        epoch: 0-based epoch index.
        batch: 1-based batch index within the epoch.
        batch_num: global batch number (counted across epochs).
        value: the offending mean.
        ranks: the ranks whose batch was non-finite (None for a single process).
        name: the objective's name.

    Example:
        >>> from pygen.train.errors import NonFiniteLogProbError
        >>> error = NonFiniteLogProbError(epoch=2, batch=5, batch_num=45, value=float("nan"))
        >>> print(error)
        mean log_prob is nan at epoch 2, batch 5 of the epoch (global batch 45); ...
        >>> print(NonFiniteLogProbError(0, 1, 1, float("inf"), ranks=(1,), name="elbo"))
        mean elbo is inf on rank 1 at epoch 0, batch 1 of the epoch (global batch 1); ...
    """

    def __init__(
        self,
        epoch: int,
        batch: int,
        batch_num: int,
        value: float,
        ranks: tuple[int, ...] | None = None,
        name: str = "log_prob",
    ) -> None:
        self.epoch = epoch
        self.batch = batch
        self.batch_num = batch_num
        self.value = value
        self.ranks = ranks
        self.name = name
        where = ""
        if ranks is not None:
            where = f" on rank{'s' if len(ranks) > 1 else ''} {', '.join(map(str, ranks))}"
        super().__init__(
            f"mean {name} is {value}{where} at epoch {epoch}, batch {batch} of the epoch "
            f"(global batch {batch_num}); the optimizer step was not taken and the last "
            "checkpoint is intact. Lower the learning rate, clip gradients "
            "(grad_clip_norm=...), check the data lie in the distribution's support, or pass "
            "skip_nonfinite=True."
        )

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return (
            type(self),
            (self.epoch, self.batch, self.batch_num, self.value, self.ranks, self.name),
        )


class TrainingPreempted(SystemExit):
    """Training stopped on SIGTERM or SIGUSR1 after finishing a step and checkpointing.

    A :class:`SystemExit`, so a program that does not catch it exits with status
    ``128 + signal number`` (143 for SIGTERM, 138 for SIGUSR1 on Linux), the status a
    shell reports for a process the signal ended, which schedulers treat as "requeue or
    retry". Started again with the same ``checkpoint_path``, the program resumes exactly
    where it stopped.

    Attributes:
        signal_number: the signal that asked for the stop.
        step: the optimizer step after which every rank stopped.
        code: the exit status, ``128 + signal_number``.

    Example:
        >>> import signal
        >>> from pygen.train.errors import TrainingPreempted
        >>> error = TrainingPreempted(signal.SIGTERM, step=12)
        >>> error.code, error.step
        (143, 12)
    """

    def __init__(self, signal_number: int, step: int) -> None:
        self.signal_number = int(signal_number)
        self.step = step
        super().__init__(128 + self.signal_number)

    def __str__(self) -> str:
        return (
            f"training stopped by signal {self.signal_number} after step {self.step}; the "
            "checkpoint (if checkpoint_path was set) holds the state to resume from"
        )

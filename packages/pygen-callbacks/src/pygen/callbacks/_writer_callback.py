"""Private bases for the callbacks that write scalars or histograms to a TensorBoard writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pygen.callbacks._common import check_exact_log_prob, check_name, check_writer, is_main_process
from pygen.train.callback import Callback
from pygen.train.state import TrainerState

__all__: list[str] = []


class WriterCallback(Callback):
    """Holds a TensorBoard writer; flushes it when training ends (main process only)."""

    def __init__(self, owner: str, tb_writer: Any, methods: Sequence[str]) -> None:
        check_writer(owner, tb_writer, methods)
        self.owner = owner
        self.tb_writer = tb_writer

    def on_train_end(self, trainer: TrainerState) -> None:
        """Flush the writer so everything logged is on disk when ``train()`` returns."""
        if is_main_process(trainer):
            flush = getattr(self.tb_writer, "flush", None)
            if callable(flush):
                flush()


class LogProbWriterCallback(WriterCallback):
    """Writes an exact log-likelihood under ``tb_name``; refuses trainers that have none.

    :meth:`check_trainer` runs in ``on_train_start`` (before the first step; pygen-train
    also runs it for a callback passed as the legacy ``batch_end_callback=`` /
    ``epoch_end_callback=``) and at every direct call ``cb(trainer)`` (a trainer-like
    object that has no ``on_train_start``), on every rank, so under ``torchrun`` all
    ranks stop together.
    """

    def __init__(self, owner: str, tb_writer: Any, tb_name: str) -> None:
        super().__init__(owner, tb_writer, ("add_scalar",))
        self.tb_name = check_name(owner, "tb_name", tb_name)

    def check_trainer(self, trainer: TrainerState) -> None:
        """Raise TypeError unless the trainer's objective is an exact log-likelihood."""
        check_exact_log_prob(self.owner, trainer)

    def on_train_start(self, trainer: TrainerState) -> None:
        """Refuse the trainer before its first step if it reports no exact log-likelihood."""
        self.check_trainer(trainer)

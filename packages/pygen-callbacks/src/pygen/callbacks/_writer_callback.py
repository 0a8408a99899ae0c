"""Private base for the callbacks that write scalars or histograms to a TensorBoard writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pygen.callbacks._common import check_writer, is_main_process
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

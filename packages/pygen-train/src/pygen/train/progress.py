"""The progress display: a tqdm bar on a terminal, one line per epoch elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

__all__ = ["ProgressBar"]


class ProgressBar:
    """Shows the epoch, batches, ETA, throughput and the running objective.

    On a terminal a :mod:`tqdm` bar is redrawn in place at most every ``interval``
    seconds: epoch and step, batches done, elapsed time and ETA, batches per second, and
    (set by the trainer) examples per second, the running mean of the objective and its
    bits per dimension. Elsewhere (logs, CI) nothing is drawn during the epoch and one
    line per epoch is written. A disabled bar writes nothing. The trainer shows it on
    rank 0 only, and not at all with ``progress=False``.

    Args:
        enabled: whether to write anything.
        stream: where to write (default: ``sys.stderr``).
        interval: the minimum number of seconds between redraws on a terminal.
        ncols: the bar's width in characters (default: the terminal's, followed as it
            changes).

    Example:
        >>> import io
        >>> from pygen.train.progress import ProgressBar
        >>> out = io.StringIO()
        >>> bar = ProgressBar(stream=out)
        >>> bar.start_epoch(epoch=0, max_epoch=2, total=3)
        >>> bar.update(done=3, log_prob=-1.25)
        >>> bar.end_epoch({"log_prob": -1.25, "accuracy": 0.5})
        >>> print(out.getvalue().strip())
        epoch 1/2: 3/3 batches, log_prob -1.2500, accuracy 0.5000
    """

    def __init__(
        self,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float = 0.2,
        ncols: int | None = None,
    ) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.ncols = ncols
        self._live = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar: tqdm | None = None
        self._next_draw = 0.0
        self._prefix = ""
        self._total = 0
        self._done = 0

    def start_epoch(self, epoch: int, max_epoch: int, total: int) -> None:
        """Begin an epoch of ``total`` batches (``epoch`` is 0-based)."""
        self._prefix = f"epoch {epoch + 1}/{max_epoch}"
        self._total = total
        self._done = 0
        self._next_draw = 0.0
        if self._live:
            self._close()
            self._bar = tqdm(
                total=total,
                desc=self._prefix,
                file=self.stream,
                unit="batch",
                mininterval=0.0,  # this class throttles: tqdm draws at every update it gets
                miniters=1,
                leave=False,
                ncols=self.ncols,
                dynamic_ncols=self.ncols is None,
            )

    def due(self, done: int) -> bool:
        """Whether :meth:`update` would draw now (so the caller need not compute values)."""
        return self._live and (time.monotonic() >= self._next_draw or done >= self._total)

    def update(
        self,
        done: int,
        log_prob: float,
        *,
        name: str = "log_prob",
        bits_per_dim: float | None = None,
        step: int | None = None,
        examples_per_second: float | None = None,
    ) -> None:
        """Record that ``done`` batches of the epoch are finished (redraw if it is time).

        Args:
            done: batches of this epoch finished.
            log_prob: the running mean of the objective.
            name: the objective's name (shown beside its value).
            bits_per_dim: its bits per dimension, if it has them.
            step: the optimizer step.
            examples_per_second: the throughput in examples.
        """
        self._done = done
        if self._bar is None or not self.due(done):
            return
        self._next_draw = time.monotonic() + self.interval
        shown = {name: f"{log_prob:.4f}"}
        if bits_per_dim is not None:
            shown["bits/dim"] = f"{bits_per_dim:.4f}"
        if step is not None:
            shown["step"] = str(step)
        if examples_per_second is not None:
            shown["ex/s"] = f"{examples_per_second:.0f}"
        self._bar.set_postfix(shown, refresh=False)
        self._bar.update(done - self._bar.n)

    def end_epoch(self, metrics: dict[str, float], done: int | None = None) -> None:
        """Finish the epoch with one line of its metrics (``done``: batches, if not updated)."""
        if done is not None:
            self._done = done
        if not self.enabled:
            return
        self._close()
        shown = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
        self.stream.write(f"{self._prefix}: {self._done}/{self._total} batches, {shown}\n")
        self.stream.flush()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

"""A minimal progress display on stderr (no third-party dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Shows the epoch, the batch count and the running mean log-likelihood.

    On a terminal the line is redrawn in place at most every ``interval`` seconds (so it
    costs nothing measurable per batch); elsewhere (logs, CI) one line per epoch is
    written. Disabled bars do nothing.

    Args:
        enabled: whether to write anything.
        stream: where to write (default: ``sys.stderr``).
        interval: the minimum number of seconds between redraws on a terminal.

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
        self, enabled: bool = True, stream: TextIO | None = None, interval: float = 0.2
    ) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self._live = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
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

    def due(self, done: int) -> bool:
        """Whether :meth:`update` would draw now (so the caller need not compute values)."""
        return self._live and (time.monotonic() >= self._next_draw or done >= self._total)

    def update(self, done: int, log_prob: float) -> None:
        """Record that ``done`` batches of the epoch are finished."""
        self._done = done
        if not self._live:
            return
        now = time.monotonic()
        if now < self._next_draw and done < self._total:
            return
        self._next_draw = now + self.interval
        self.stream.write(f"\r{self._prefix}: {done}/{self._total} log_prob {log_prob:.4f}")
        self.stream.flush()

    def end_epoch(self, metrics: dict[str, float], done: int | None = None) -> None:
        """Finish the epoch's line with its metrics (``done``: batches, if not updated)."""
        if done is not None:
            self._done = done
        if not self.enabled:
            return
        shown = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
        start = "\r" if self._live else ""
        self.stream.write(f"{start}{self._prefix}: {self._done}/{self._total} batches, {shown}\n")
        self.stream.flush()

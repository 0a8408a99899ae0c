"""Tests for pygen.train.progress.ProgressBar."""

from __future__ import annotations

import io

from pygen.train.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_train_progress_disabled_writes_nothing():
    out = io.StringIO()
    bar = ProgressBar(enabled=False, stream=out)
    bar.start_epoch(0, 1, 2)
    bar.update(1, -1.0)
    bar.end_epoch({"log_prob": -1.0})
    assert out.getvalue() == ""


def test_train_progress_terminal_redraws_in_place_and_throttles():
    out = Terminal()
    bar = ProgressBar(stream=out, interval=3600.0)
    bar.start_epoch(1, 3, 4)
    bar.update(1, -2.0)
    bar.update(2, -2.0)  # throttled
    bar.update(4, -1.5)  # the last batch always draws
    bar.end_epoch({"log_prob": -1.5})
    text = out.getvalue()
    assert text.count("\r") == 3
    assert "epoch 2/3: 1/4 log_prob -2.0000" in text
    assert "2/4" not in text
    assert text.endswith("\repoch 2/3: 4/4 batches, log_prob -1.5000\n")

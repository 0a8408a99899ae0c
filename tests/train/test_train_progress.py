"""Tests for pygen.train.progress.ProgressBar."""

from __future__ import annotations

import io

from pygen.train.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_train_progress_disabled_writes_nothing():
    out = Terminal()
    bar = ProgressBar(enabled=False, stream=out)
    bar.start_epoch(0, 1, 2)
    bar.update(1, -1.0)
    bar.end_epoch({"log_prob": -1.0})
    assert out.getvalue() == ""


def test_train_progress_not_a_terminal_writes_one_line_per_epoch():
    out = io.StringIO()
    bar = ProgressBar(stream=out, interval=0.0)
    for epoch in range(2):
        bar.start_epoch(epoch, 2, 3)
        for done in (1, 2, 3):
            assert not bar.due(done)
            bar.update(done, -1.0)
        bar.end_epoch({"log_prob": -1.0})
    assert out.getvalue() == (
        "epoch 1/2: 3/3 batches, log_prob -1.0000\nepoch 2/2: 3/3 batches, log_prob -1.0000\n"
    )


def test_train_progress_terminal_bar_shows_eta_throughput_and_objective_and_throttles():
    out = Terminal()
    bar = ProgressBar(stream=out, interval=3600.0, ncols=200)
    bar.start_epoch(1, 3, 4)
    assert bar.due(1)
    bar.update(1, -2.0, name="elbo", bits_per_dim=1.5, step=7, examples_per_second=640.0)
    assert not bar.due(2)
    bar.update(2, -2.0)  # throttled
    bar.update(4, -1.5, name="elbo")  # the last batch always draws
    bar.end_epoch({"elbo": -1.5})
    text = out.getvalue()
    assert "epoch 2/3" in text
    assert "1/4" in text
    assert "2/4" not in text
    assert "4/4" in text
    assert "elbo=-2.0000" in text
    assert "bits/dim=1.5000" in text
    assert "step=7" in text
    assert "ex/s=640" in text
    assert "batch/s" in text  # tqdm's rate, and its elapsed<remaining times
    assert "<" in text
    assert text.endswith("epoch 2/3: 4/4 batches, elbo -1.5000\n")

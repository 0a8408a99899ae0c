"""A training subprocess killed with SIGKILL at two points, then interrupted with Ctrl-C
(SIGINT) and resumed, ends with exactly the parameters of an uninterrupted run."""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from pygen.train.checkpoint import safe_load

SCRIPT = textwrap.dedent(
    '''
    import os
    import signal
    import sys

    import torch
    from torch import nn
    from torch.utils.data import TensorDataset

    from pygen.train import Callback, LayerTrainer, atomic_save


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))

        def forward(self, x):
            return torch.distributions.Categorical(logits=self.net(x))


    class KillAt(Callback):
        """Sends this process a signal after the given global batch."""

        def __init__(self, batch, signal_number):
            self.batch = batch
            self.signal_number = signal_number

        def on_batch_end(self, trainer):
            if trainer.batch_num == self.batch:
                os.kill(os.getpid(), self.signal_number)


    def train(checkpoint_path, kill_at=None, signal_number=signal.SIGKILL):
        torch.set_num_threads(1)
        torch.manual_seed(0)
        model = Classifier()
        generator = torch.Generator().manual_seed(1)
        x = torch.randn(96, 4, generator=generator)
        y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
        trainer = LayerTrainer(
            model,
            TensorDataset(x, y),
            16,
            4,
            use_scheduler=True,
            callbacks=[KillAt(kill_at, signal_number)],
            checkpoint_path=checkpoint_path,
            seed=7,
            progress=False,
        )
        trainer.train()
        return model


    if __name__ == "__main__":
        checkpoint, out, kill_at, signal_name = sys.argv[1:5]
        model = train(
            checkpoint,
            None if kill_at == "none" else int(kill_at),
            getattr(signal, signal_name),
        )
        atomic_save(model.state_dict(), out)
    '''
)


def _run(script, checkpoint, out, kill_at, signal_name):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, str(script), str(checkpoint), str(out), str(kill_at), signal_name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_train_resume_after_sigkill_and_sigint_is_bit_exact(tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    checkpoint = tmp_path / "run.pt"
    out = tmp_path / "final.pt"

    # 1: killed in epoch 0 (6 batches per epoch): no checkpoint exists yet
    result = _run(script, checkpoint, out, 3, "SIGKILL")
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not checkpoint.exists()

    # 2: starts afresh, killed in epoch 1: the checkpoint of epoch 0 survives
    result = _run(script, checkpoint, out, 9, "SIGKILL")
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert safe_load(checkpoint)["epochs_done"] == 1

    # 3 (in this process): resumes at epoch 1, Ctrl-C in epoch 2 writes a mid-epoch checkpoint
    train = runpy.run_path(str(script))["train"]
    with pytest.raises(KeyboardInterrupt):
        train(checkpoint, 16, signal.SIGINT)
    state = safe_load(checkpoint)
    assert (state["epochs_done"], state["batch_in_epoch"], state["batch_num"]) == (2, 4, 16)

    # 4: resumes mid-epoch 2 and finishes
    resumed = train(checkpoint).state_dict()
    assert safe_load(checkpoint)["epochs_done"] == 4

    reference = train(None).state_dict()
    assert resumed.keys() == reference.keys()
    for name, value in reference.items():
        assert torch.equal(resumed[name], value), name

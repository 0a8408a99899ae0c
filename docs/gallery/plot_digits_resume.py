"""
Preemption and exact resume
===========================

A cluster stops a job by sending it SIGTERM (SLURM, Kubernetes and ``docker stop`` do)
and requeues it. With ``checkpoint_path=``, pygen's trainer finishes the current step on
that signal, writes a checkpoint atomically and raises
:class:`~pygen.train.TrainingPreempted`, a ``SystemExit`` with exit status 143
(``128 + SIGTERM``). Started again, the same program resumes from the checkpoint, random
number generators included, and ends with exactly the parameters of a run that was never
stopped. Here a MADE learns the digits three times: straight through, stopped by a
SIGTERM in its third epoch, and resumed.

Needs ``pip install pygen-distributions pygen-train scikit-learn matplotlib``.
"""

import os
import signal
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from torch.utils.data import TensorDataset

from pygen.distributions import MADE
from pygen.train import Callback, DistributionTrainer, TrainingPreempted

torch.manual_seed(0)
torch.set_num_threads(1)

digits = load_digits()
images = (torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16 > 0.5).float()
train = TensorDataset(images)
steps_per_epoch = len(images) // 64  # the trainer drops the last, incomplete batch


class SigtermAtStep(Callback):
    """Send this process SIGTERM after a given step, as a cluster's scheduler would."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def run(checkpoint_path=None, callbacks=()):
    """The training program: the same model, data, seed and options every time."""
    made = MADE([1, 8, 8], hidden_sizes=[128], seed=0)
    trainer = DistributionTrainer(
        made, train, batch_size=64, max_epoch=6, seed=0, progress=False,
        checkpoint_path=checkpoint_path, callbacks=callbacks,
    )  # fmt: skip
    trainer.train()
    return made, trainer


# %%
# The reference: six epochs, never stopped.
straight, straight_trainer = run()

# %%
# The same program, with a checkpoint file, receives SIGTERM in the middle of its third
# epoch (``steps_per_epoch`` steps per epoch).
checkpoint = Path(tempfile.mkdtemp(prefix="pygen-gallery-")) / "made.ckpt"
stop_at = 2 * steps_per_epoch + steps_per_epoch // 2
try:
    run(checkpoint, [SigtermAtStep(stop_at)])
except TrainingPreempted as stop:
    print(f"preempted after step {stop.step}; exit status {stop.code}")
print(f"checkpoint written: {checkpoint.name}, {checkpoint.stat().st_size / 1e3:.0f} kB")

# %%
# The job is requeued: the same program starts again and finds the checkpoint. It
# continues from step ``stop_at`` (the signal is sent at that step only, which is behind
# it now) and finishes the six epochs.
resumed, resumed_trainer = run(checkpoint, [SigtermAtStep(stop_at)])
same = all(
    torch.equal(a, b) for a, b in zip(straight.parameters(), resumed.parameters(), strict=True)
)
print(f"parameters equal to the straight run's: {same}")

# %%
# The loss per step of both runs (the resumed run's history holds the steps before the
# stop too, restored from the checkpoint): the curves are one and the same.
fig, axis = plt.subplots(figsize=(7, 4))
for trainer, label, style in [
    (straight_trainer, "never stopped", {"linewidth": 4, "alpha": 0.4}),
    (resumed_trainer, "stopped by SIGTERM, then resumed", {"linewidth": 1, "color": "black"}),
]:
    batches = trainer.history.batches
    axis.plot([b["batch"] for b in batches], [b["log_prob"] for b in batches], label=label, **style)
axis.axvline(stop_at, color="red", linestyle="--", label=f"SIGTERM after step {stop_at}")
axis.set_xlabel("step")
axis.set_ylabel("batch log-likelihood (nats per image)")
axis.legend()
axis.set_title("Exact resume: the same steps, the same numbers")
plt.show()

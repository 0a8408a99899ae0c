"""
MADE on digits: samples, completions and a mask ensemble
========================================================

:class:`~pygen.distributions.MADE` (Germain et al. 2015) is an autoregressive
distribution over binary vectors computed by one masked network pass, so its
``log_prob`` is exact and cheap. With ``num_masks > 1`` it trains an ensemble of
connectivities: a two-line callback resamples the mask after every step, and
``ensemble_log_prob`` averages the probabilities of all mask sets. The image callbacks
work on it as on a PixelCNN: :class:`~pygen.callbacks.TBImagesCallback` draws samples
and :class:`~pygen.callbacks.TBCompletionsCallback` completes held-out digits.

Needs ``pip install pygen-distributions pygen-train pygen-callbacks scikit-learn``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from torch.utils.data import TensorDataset

from pygen.callbacks import TBCompletionsCallback, TBImagesCallback
from pygen.distributions import MADE
from pygen.train import Callback, DistributionTrainer

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# Binarized digits ``[N, 1, 8, 8]``, the last 360 held out.
digits = load_digits()
images = (torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16 > 0.5).float()
order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
train = TensorDataset(images[order[:-360]])
validation = TensorDataset(images[order[-360:]])

# %%
# Four mask sets over the pixels in their natural (raster) order, so that observing the
# top half and completing the bottom half is exact for each of them.
made = MADE([1, 8, 8], hidden_sizes=[256], num_masks=4, natural_ordering=True)


class ResampleMask(Callback):
    """Move MADE to its next mask set after every training step."""

    def on_batch_end(self, trainer):
        trainer.trainable.resample_mask()


output = Path(tempfile.mkdtemp(prefix="pygen-gallery-"))
trainer = DistributionTrainer(
    made,
    train,
    batch_size=64,
    max_epoch=15,
    validation_dataset=validation,
    optimizer=lambda parameters: torch.optim.Adam(parameters, lr=3e-3),
    callbacks=[
        ResampleMask(),
        TBImagesCallback(None, "samples", num_samples=32, nrow=8, padding=1, folder=output),
        TBCompletionsCallback(None, "completions", validation, num_images=6, folder=output),
    ],
    progress=False,
)
trainer.train()

# %%
# The validation log-likelihood of one mask set against the ensemble's, in nats per
# image (higher is better): averaging the four connectivities' probabilities helps.
held_out = validation.tensors[0]
with torch.no_grad():
    single = made.log_prob(held_out).mean().item()
    ensemble = made.ensemble_log_prob(held_out).mean().item()
print(f"one mask set {single:.2f}, ensemble of 4 {ensemble:.2f} nats per image")
fig, axis = plt.subplots(figsize=(6, 4))
axis.plot(trainer.history.epoch_values("log_prob"), marker=".", label="log_prob (training)")
axis.plot(trainer.history.epoch_values("val_log_prob"), marker=".", label="val_log_prob")
axis.axhline(ensemble, color="black", linestyle="--", label="validation, ensemble of 4")
axis.set_xlabel("epoch")
axis.set_ylabel("log-likelihood (nats per image)")
axis.legend()
axis.set_title("MADE: log-likelihood per epoch")
plt.show()

# %%
# The grids the two image callbacks wrote after the last epoch: 32 samples, and six
# held-out digits (original, observed top half, three completions each).
samples = plt.imread(sorted(output.glob("samples_*.png"))[-1])
completions = plt.imread(sorted(output.glob("completions_*.png"))[-1])
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), width_ratios=[1.6, 1])
axes[0].imshow(samples, interpolation="nearest")
axes[0].set_title("TBImagesCallback: 32 samples")
axes[0].axis("off")
axes[1].imshow(completions, interpolation="nearest")
columns = ["original", "observed", "completion 1", "completion 2", "completion 3"]
axes[1].set_xticks([2 + 4 + 10 * i for i in range(len(columns))])
axes[1].set_xticklabels(columns, rotation=30, ha="right")
axes[1].set_yticks([])
axes[1].set_title("TBCompletionsCallback")
fig.tight_layout()
plt.show()

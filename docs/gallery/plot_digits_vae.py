"""
A VAE of digits, with its reconstructions and an IWAE bound
===========================================================

A :class:`~pygen.distributions.VAE` has no exact ``log_prob``: it has bounds on it. It is
trained by maximising the ELBO (:class:`~pygen.distributions.ELBOObjective`, which logs
``elbo``, ``reconstruction`` and ``kl``) and evaluated here on validation data with the
tighter importance-weighted bound IWAE-50 (:class:`~pygen.distributions.IWAEObjective`,
logged as ``val_iwae_50``). The encoder and the decoder are pygen layers;
:class:`~pygen.callbacks.TBReconstructionsCallback` writes validation digits beside their
reconstructions after every epoch.

Needs ``pip install pygen-distributions pygen-layers pygen-train pygen-callbacks
scikit-learn``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.distributions import Independent, Normal
from torch.utils.data import TensorDataset

from pygen.callbacks import TBImagesCallback, TBReconstructionsCallback
from pygen.distributions import VAE, ELBOObjective, IWAEObjective
from pygen.layers import IndependentBernoulli, IndependentNormal
from pygen.train import DistributionTrainer

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# Binarized digits ``[N, 1, 8, 8]``, the last 360 held out for validation.
digits = load_digits()
images = (torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16 > 0.5).float()
order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
train = TensorDataset(images[order[:-360]])
validation = TensorDataset(images[order[-360:]])

# %%
# The parts: a standard normal prior over 8 latent dimensions, an encoder whose
# :class:`~pygen.layers.IndependentNormal` head is q(z | x), and a decoder whose
# :class:`~pygen.layers.IndependentBernoulli` head is p(x | z), one Bernoulli per pixel.
latent = 8
prior = Independent(Normal(torch.zeros(latent), torch.ones(latent)), 1)
encoder = nn.Sequential(
    nn.Flatten(),
    nn.Linear(64, 128),
    nn.ReLU(),
    nn.Linear(128, IndependentNormal.params_size(latent)),
    IndependentNormal(latent),
)
decoder = nn.Sequential(
    nn.Linear(latent, 128),
    nn.ReLU(),
    nn.Linear(128, IndependentBernoulli.params_size([1, 8, 8])),
    IndependentBernoulli([1, 8, 8]),
)
vae = VAE(encoder, decoder, prior)

# %%
# Train by the ELBO, validate by IWAE-50 (and its ELBO). Both are lower bounds on the
# log-likelihood in nats per image; the IWAE bound is the tighter one.
output = Path(tempfile.mkdtemp(prefix="pygen-gallery-"))
trainer = DistributionTrainer(
    vae,
    train,
    batch_size=64,
    max_epoch=20,
    objective=ELBOObjective(),
    validation_dataset=validation,
    validation_objective=IWAEObjective(k=50),
    optimizer=lambda parameters: torch.optim.Adam(parameters, lr=3e-3),
    callbacks=[
        TBReconstructionsCallback(None, "reconstructions", validation, folder=output),
        TBImagesCallback(None, "samples", num_samples=32, nrow=8, padding=1, folder=output),
    ],
    progress=False,
)
trainer.train()
last = trainer.history.epochs[-1]
print(", ".join(f"{name} {last[name]:.2f}" for name in ("elbo", "kl", "val_elbo", "val_iwae_50")))

# %%
# The bounds per epoch: the training ELBO, and on validation data the ELBO and the
# IWAE-50 bound above it.
history = trainer.history
fig, axis = plt.subplots(figsize=(6, 4))
for name in ("elbo", "val_elbo", "val_iwae_50"):
    axis.plot(history.epoch_values(name), marker=".", label=name)
axis.set_xlabel("epoch")
axis.set_ylabel("nats per image")
axis.set_ylim(top=max(history.epoch_values("val_iwae_50")) + 3)
axis.legend()
axis.set_title("ELBO and IWAE-50, higher is better")
plt.show()

# %%
# What :class:`~pygen.callbacks.TBReconstructionsCallback` wrote after the first and the
# last epoch: in each row, four (input, reconstruction) pairs of validation digits.
grids = sorted(output.glob("reconstructions_*.png"))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for axis, path in zip(axes, [grids[0], grids[-1]], strict=True):
    axis.imshow(plt.imread(path), interpolation="nearest")
    axis.set_title(path.name)
    axis.set_xticks([(2 * i + 1) * 10 / 2 + 1 for i in range(8)])
    axis.set_xticklabels(["input", "recon."] * 4, rotation=90)
    axis.set_yticks([])
fig.suptitle("TBReconstructionsCallback: input, reconstruction, input, ...")
fig.tight_layout()
plt.show()

# %%
# And :class:`~pygen.callbacks.TBImagesCallback`'s samples after the last epoch: codes
# drawn from the prior, decoded, and one binary image drawn from each decoded distribution.
plt.figure(figsize=(6, 3.2))
plt.imshow(plt.imread(sorted(output.glob("samples_*.png"))[-1]), interpolation="nearest")
plt.axis("off")
plt.title("TBImagesCallback: 32 samples from the VAE")
plt.show()

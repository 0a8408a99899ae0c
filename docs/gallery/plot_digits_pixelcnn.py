"""
A PixelCNN of digits, with its sample grids and TensorBoard curves
==================================================================

A PixelCNN is a *distribution*: an ``nn.Module`` with ``log_prob`` and ``sample``.
:class:`~pygen.train.DistributionTrainer` maximises ``model.log_prob(x)``, the exact
log-likelihood of the images. Here a small
:class:`~pygen.distributions.PixelCNNBernoulliDistribution` learns binarized 8x8 digits;
:class:`~pygen.callbacks.TBImagesCallback` writes a grid of samples after every epoch and
:class:`~pygen.callbacks.TBMetricsCallback` the training and validation log-likelihood,
which we read back from the TensorBoard log and plot.

Needs ``pip install pygen-distributions pygen-train pygen-callbacks scikit-learn``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBImagesCallback, TBMetricsCallback
from pygen.distributions import PixelCNNBernoulliDistribution
from pygen.train import DistributionTrainer

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# Binarized digits, ``[N, 1, 8, 8]`` with values 0 and 1, which is what a Bernoulli
# distribution accepts. The dataset's first tensor is what the trainer models.
digits = load_digits()
images = (torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16 > 0.5).float()
order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
train = TensorDataset(images[order[:-360]])
validation = TensorDataset(images[order[-360:]])

# %%
# A PixelCNN over ``event_shape=[1, 8, 8]``: each pixel's Bernoulli logit depends only on
# the pixels above it and to its left, so ``log_prob`` is exact.
pixelcnn = PixelCNNBernoulliDistribution(event_shape=[1, 8, 8], hidden_channels=32, num_layers=3)
print(f"{sum(p.numel() for p in pixelcnn.parameters())} parameters")

output = Path(tempfile.mkdtemp(prefix="pygen-gallery-"))
writer = SummaryWriter(str(output / "tensorboard"))
DistributionTrainer(
    pixelcnn,
    train,
    batch_size=64,
    max_epoch=6,
    validation_dataset=validation,
    callbacks=[
        TBMetricsCallback(writer),
        TBImagesCallback(writer, "samples", num_samples=64, nrow=8, padding=1, folder=output),
    ],
    progress=False,
).train()
writer.close()

# %%
# The sample grids the callback wrote, after the first and the last epoch: the model
# goes from noise to strokes that look like digits.
grids = sorted(output.glob("samples_*.png"))
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for axis, path in zip(axes, [grids[0], grids[-1]], strict=True):
    axis.imshow(plt.imread(path), interpolation="nearest")
    axis.set_title(path.name)
    axis.axis("off")
fig.suptitle("TBImagesCallback: 64 samples")
plt.show()

# %%
# The scalars TensorBoard shows (``tensorboard --logdir <output>/tensorboard``), read back
# from the event file. The log-likelihood is in nats per image.
events = EventAccumulator(str(output / "tensorboard"))
events.Reload()
tags = [tag for tag in events.Tags()["scalars"] if tag.endswith("log_prob")]
print("scalars written:", *sorted(events.Tags()["scalars"]), sep="\n  ")
fig, axis = plt.subplots(figsize=(6, 4))
for tag in sorted(tags):
    points = events.Scalars(tag)
    axis.plot([p.step for p in points], [p.value for p in points], marker="o", label=tag)
axis.set_xlabel("epoch")
axis.set_ylabel("log-likelihood (nats per image)")
axis.legend()
axis.set_title("TBMetricsCallback: TensorBoard scalars")
plt.show()

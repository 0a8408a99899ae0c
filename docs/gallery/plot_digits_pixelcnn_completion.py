"""
PixelCNN completions and sampling temperature
=============================================

A PixelCNN models pixels one at a time in raster order, so it can do more than sample:
given the top half of a digit, ``complete`` draws the bottom half from the exact
conditional distribution, and ``sample(temperature=...)`` sharpens (below 1) or flattens
(above 1) every pixel's distribution. :class:`~pygen.callbacks.TBCompletionsCallback`
writes a grid of held-out digits, their observed top halves and three completions each
after every epoch.

Needs ``pip install pygen-distributions pygen-train pygen-callbacks scikit-learn``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from torch.utils.data import TensorDataset
from torchvision.utils import make_grid

from pygen.callbacks import TBCompletionsCallback
from pygen.distributions import PixelCNNBernoulliDistribution
from pygen.train import DistributionTrainer

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# Binarized digits ``[N, 1, 8, 8]``; the last 360 are held out, and the callback
# completes the first eight of them.
digits = load_digits()
images = (torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16 > 0.5).float()
order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
train = TensorDataset(images[order[:-360]])
validation = TensorDataset(images[order[-360:]])

pixelcnn = PixelCNNBernoulliDistribution(event_shape=[1, 8, 8], hidden_channels=32, num_layers=3)
output = Path(tempfile.mkdtemp(prefix="pygen-gallery-"))
DistributionTrainer(
    pixelcnn,
    train,
    batch_size=64,
    max_epoch=6,
    validation_dataset=validation,
    callbacks=[TBCompletionsCallback(None, "completions", validation, folder=output)],
    progress=False,
).train()

# %%
# The grid the callback wrote after the last epoch. Each row: the held-out digit, what
# the model was shown (the unobserved bottom half mid-grey), and three completions. The
# top half of every completion is the observed one; only the bottom half is drawn. For
# a model that goes in raster order, an observed top part makes this exact sampling from
# the conditional distribution; call ``pixelcnn.complete(images, observed_mask,
# sample_shape)`` yourself for the same thing outside training.
grid = plt.imread(sorted(output.glob("completions_*.png"))[-1])
columns = ["original", "observed", "completion 1", "completion 2", "completion 3"]
fig, axis = plt.subplots(figsize=(5, 7))
axis.imshow(grid, interpolation="nearest")
axis.set_xticks([2 + 4 + 10 * i for i in range(len(columns))])
axis.set_xticklabels(columns, rotation=30, ha="right")
axis.set_yticks([])
axis.set_title("TBCompletionsCallback")
fig.tight_layout()
plt.show()

# %%
# Temperature: ``sample(..., temperature=t)`` sharpens every pixel's distribution towards
# its mode below 1 and flattens it above 1 (``complete`` takes ``temperature=`` too).
# Low temperatures give clean, thick strokes; high ones noisy digits.
temperatures = [0.5, 1.0, 2.0]
fig, axes = plt.subplots(1, len(temperatures), figsize=(9, 3.4))
for axis, temperature in zip(axes, temperatures, strict=True):
    torch.manual_seed(1)
    with torch.no_grad():
        samples = pixelcnn.sample([16], temperature=temperature)
    axis.imshow(make_grid(samples, nrow=4, padding=1, pad_value=0.3).permute(1, 2, 0),
                interpolation="nearest")  # fmt: skip
    axis.set_title(f"temperature={temperature}")
    axis.axis("off")
fig.suptitle("PixelCNN samples at three temperatures")
plt.show()

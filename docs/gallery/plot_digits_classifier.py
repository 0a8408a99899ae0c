"""
A digit classifier, with a labelled classification grid
=======================================================

A classifier is a *layer*: a module whose ``forward(images)`` returns a distribution over
labels. :class:`~pygen.train.LayerTrainer` maximises ``model(x).log_prob(y)``, the
log-likelihood of the labels. Here it learns the 8x8 digits in a few seconds, and
:class:`~pygen.callbacks.TBClassifyImagesCallback` writes, after every epoch, the first 25
test images each titled with the class the model predicts.

Needs ``pip install pygen-layers pygen-train pygen-callbacks scikit-learn``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

from pygen.callbacks import TBClassifyImagesCallback, TBMetricsCallback
from pygen.layers import Categorical
from pygen.train import LayerTrainer, evaluate

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# The data: 1797 images of 8x8 pixels, grey levels 0 to 16, channel-first ``[N, 1, 8, 8]``
# in ``[0, 1]``, and their labels as ``[N]`` class indices (not ``[N, 1]``: see the shapes
# guide). The last 360 are held out for testing.
digits = load_digits()
images = torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16
labels = torch.as_tensor(digits.target)
order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
train = TensorDataset(images[order[:-360]], labels[order[:-360]])
test = TensorDataset(images[order[-360:]], labels[order[-360:]])
print(f"{len(train)} training and {len(test)} test images of shape {list(images.shape[1:])}")

# %%
# The model: a small convolutional network whose 10 outputs are the logits of a
# :class:`~pygen.layers.Categorical` layer.
classifier = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1),
    nn.ReLU(),
    nn.Flatten(),
    nn.Linear(32 * 4 * 4, 10),
    Categorical(),
)

# %%
# Train for a few epochs. The callbacks log the metrics to TensorBoard and write the
# classification grid as a PNG file each epoch (``folder=``).
output = Path(tempfile.mkdtemp(prefix="pygen-gallery-"))
writer = SummaryWriter(str(output / "tensorboard"))
classes = [str(digit) for digit in range(10)]
LayerTrainer(
    classifier,
    train,
    batch_size=32,
    max_epoch=4,
    callbacks=[
        TBMetricsCallback(writer),
        TBClassifyImagesCallback(writer, "test", test, classes, folder=output),
    ],
    progress=False,
).train()
writer.close()

metrics = evaluate(classifier, test, mode="layer", batch_size=360)
print(f"test accuracy {metrics['accuracy']:.3f}, test log-likelihood {metrics['log_prob']:.3f}")

# %%
# What the callback wrote after the last epoch: each of the first 25 test images titled
# with the predicted digit.
grids = sorted(output.glob("test_*.png"))
print("written:", ", ".join(path.name for path in grids))
plt.figure(figsize=(8, 8.4))
plt.imshow(plt.imread(grids[-1]), interpolation="antialiased")
plt.axis("off")
plt.title("TBClassifyImagesCallback: predicted classes")
plt.show()

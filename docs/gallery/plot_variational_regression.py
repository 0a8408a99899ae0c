"""
Regression with aleatoric and epistemic uncertainty
===================================================

TensorFlow Probability's tutorial "Regression with Probabilistic Layers" on 1-D data
made here: the noise grows with ``x`` (aleatoric uncertainty, which more data does not
remove) and the data covers only part of the axis (epistemic uncertainty, which grows
away from it). A :class:`~pygen.layers.DenseFlipout` network gives the mean and the
scale of a normal; its weights have a posterior, so every call draws new ones.
:class:`~pygen.layers.VariationalObjective` is the ELBO (the data term minus the KL of
the weights, divided by the number of examples) that
:class:`~pygen.train.LayerTrainer` maximises, and
:func:`~pygen.layers.predict_regression` summarises 200 posterior draws into the mean
and the two spreads drawn below.

Needs ``pip install pygen-layers pygen-train matplotlib``.
"""

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.distributions import Independent, Normal
from torch.utils.data import TensorDataset

from pygen.layers import DenseFlipout, DistributionLambda, VariationalObjective, predict_regression
from pygen.train import LayerTrainer

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# Data: y = 0.5 x + 1 + noise with scale 0.3 exp(0.3 x), observed on [-4, 2] only.
x = torch.rand(100, 1) * 6 - 4
y = 0.5 * x + 1 + 0.3 * torch.exp(0.3 * x) * torch.randn_like(x)
data = TensorDataset(x, y)

# %%
# The model (TFP's case 4, "both"): one Flipout layer gives the mean and the log-scale
# of a normal, each linear in ``x``. ``VariationalObjective`` needs the number of
# training examples to weigh the KL.
model = nn.Sequential(
    DenseFlipout(1, 2),
    DistributionLambda(lambda t: Independent(Normal(t[..., :1], t[..., 1:].exp()), 1)),
)
trainer = LayerTrainer(
    model,
    data,
    batch_size=20,
    max_epoch=60,
    objective=VariationalObjective(num_examples=len(data)),
    optimizer=lambda params: torch.optim.Adam(params, lr=0.03),
    progress=False,
)
trainer.train()
last = trainer.history.epochs[-1]
print(f"ELBO per example {last['elbo']:.3f} nats, KL share {last['kl']:.4f}")

# %%
# The predictive mean with the aleatoric band (the normal's own scale) and the epistemic
# band (the spread of the mean over weight draws), each two standard deviations wide.
grid = torch.linspace(-6, 5, 200)[:, None]
prediction = predict_regression(model, grid, num_samples=200)
mean = prediction.mean.flatten()
aleatoric = 2 * prediction.aleatoric_stddev.flatten()
epistemic = 2 * prediction.epistemic_stddev.flatten()
inside = (grid.flatten() > -4) & (grid.flatten() < 2)
print(f"epistemic spread: {prediction.epistemic_stddev[inside].mean():.3f} inside the data, "
      f"{prediction.epistemic_stddev[~inside].mean():.3f} outside")  # fmt: skip

figure, axis = plt.subplots(figsize=(7, 4))
axis.scatter(x.flatten(), y.flatten(), s=4, color="0.5", label="data")
g = grid.flatten()
axis.fill_between(g, mean - aleatoric, mean + aleatoric, alpha=0.25, label="aleatoric (2 sd)")
axis.fill_between(g, mean - epistemic, mean + epistemic, alpha=0.5, label="epistemic (2 sd)")
axis.plot(g, mean, color="k", label="predictive mean")
axis.set_xlabel("x")
axis.set_ylabel("y")
axis.legend(loc="upper left")
figure.tight_layout()
plt.show()

"""
Normalizing flows on two moons and on the digits: densities and samples
=======================================================================

A normalizing flow is a distribution with an exact ``log_prob``: base noise pushed
through invertible transforms (:doc:`/guides/flows`). Here three flows,
:class:`~pygen.distributions.MAF`, :class:`~pygen.distributions.RealNVP` and
:class:`~pygen.distributions.NSF`, learn scikit-learn's two moons with
:class:`~pygen.train.DistributionTrainer`; we draw each learned density on a grid, next
to samples. Then a MAF learns the 8x8 digits (64 numbers per image, dequantized) and we
look at its samples and its held-out bits per dimension, which is a bound.

Needs ``pip install pygen-distributions pygen-train scikit-learn matplotlib``.
"""

import math

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits, make_moons
from torch.utils.data import TensorDataset

from pygen.distributions import MAF, NSF, RealNVP
from pygen.train import DistributionTrainer

torch.manual_seed(0)
torch.set_num_threads(1)

# %%
# Two moons: 2 000 points in the plane, standardised. A flow over vectors of 2 numbers
# has ``event_shape == [2]``; the dataset's first tensor is what the trainer models.
points, _ = make_moons(2000, noise=0.06, random_state=0)
points = torch.as_tensor(points, dtype=torch.float32)
points = (points - points.mean(0)) / points.std(0)
moons = TensorDataset(points)

flows = {
    "MAF": MAF(2, num_transforms=4, hidden_sizes=[32, 32]),
    "RealNVP": RealNVP(2, num_transforms=4, hidden_sizes=[32, 32]),
    "NSF": NSF(2, num_transforms=2, hidden_sizes=[32, 32], bins=8, bound=4.0),
}
for name, flow in flows.items():
    trainer = DistributionTrainer(
        flow,
        moons,
        batch_size=200,
        max_epoch=15,
        optimizer=lambda params: torch.optim.Adam(params, lr=1e-2),
        seed=0,
        progress=False,
    )
    trainer.train()
    with torch.no_grad():
        nll = -flow.log_prob(points).mean().item()
    print(f"{name}: {sum(p.numel() for p in flow.parameters())} parameters, "
          f"training NLL {nll:.3f} nats per point")  # fmt: skip

# %%
# Each flow's density ``exp(log_prob(x))`` on a 200 x 200 grid (one ``log_prob`` call),
# and 2 000 samples from ``flow.sample``. The grid's sum times the cell area is the
# probability inside the square: close to 1, since the density is normalised.
# After 150 steps each, the spline flow has found both moons; the affine flows (each
# transform only shifts and scales one coordinate given the other) need more
# transforms and steps to bend their mass as far.
axis = torch.linspace(-3, 3, 200)
grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1).reshape(-1, 2)
cell = (axis[1] - axis[0]).item() ** 2
fig, axes = plt.subplots(2, 3, figsize=(10, 6.6))
for column, (name, flow) in enumerate(flows.items()):
    with torch.no_grad():
        density = flow.log_prob(grid).exp().reshape(200, 200)
        samples = flow.sample((2000,))
    print(f"{name}: probability inside [-3, 3]^2 = {density.sum().item() * cell:.3f}")
    axes[0, column].imshow(density, origin="lower", extent=(-3, 3, -3, 3), cmap="magma")
    axes[0, column].set_title(f"{name}: density")
    axes[1, column].scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.5)
    axes[1, column].set_xlim(-3, 3)
    axes[1, column].set_ylim(-3, 3)
    axes[1, column].set_aspect("equal")
    axes[1, column].set_title(f"{name}: samples")
fig.tight_layout()
plt.show()

# %%
# The digits: 1 797 images of 8x8 pixels with 17 grey levels (0 to 16). A continuous
# density on discrete values needs a dequantization: add uniform noise over each level's
# bin and scale to [0, 1]. The log density of the noisy images is then a lower bound on
# the log-likelihood of the discrete ones (uniform dequantization; :doc:`/guides/flows_images`),
# so the bits per dimension below are an upper bound, ``-(log_prob - 64 log 17) / (64 ln 2)``.
levels = torch.as_tensor(load_digits().images, dtype=torch.float32).reshape(-1, 64)
order = torch.randperm(len(levels), generator=torch.Generator().manual_seed(0))
train_levels, test_levels = levels[order[:-360]], levels[order[-360:]]


def dequantize(x, seed):
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
    return (x + noise) / 17


train = TensorDataset(torch.cat([dequantize(train_levels, seed) for seed in range(4)]))
digit_flow = MAF(64, num_transforms=4, hidden_sizes=[256])
DistributionTrainer(
    digit_flow,
    train,
    batch_size=128,
    max_epoch=5,
    optimizer=lambda params: torch.optim.Adam(params, lr=1e-3),
    seed=0,
    progress=False,
).train()
with torch.no_grad():
    log_density = digit_flow.log_prob(dequantize(test_levels, 99)).mean().item()
bits = -(log_density - 64 * math.log(17)) / (64 * math.log(2))
print(f"held-out: {bits:.3f} bits per dimension, an upper bound (a uniform distribution "
      f"over the 17 levels: {math.log2(17):.3f})")  # fmt: skip

# %%
# Sixteen samples, clipped to [0, 1]: a MAF draws one pixel at a time in its order (64
# sequential network passes per transform, on the cached fast path).
with torch.no_grad():
    samples = digit_flow.sample((16,)).clamp(0, 1).reshape(16, 8, 8)
fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for image, axis in zip(samples, axes.flat, strict=True):
    axis.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    axis.axis("off")
fig.suptitle("MAF samples of 8x8 digits")
plt.show()

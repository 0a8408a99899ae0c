"""Train a variational autoencoder on binarized images with pygen's DistributionTrainer.

``pygen.distributions.VAE`` is built from parts: a prior p(z) (a standard normal, or
independent fair coins with ``--latent bernoulli``), an encoder q(z|x) (an MLP ending in
``pygen.layers.IndependentNormal``, or ``IndependentBernoulli`` trained through its
Gumbel-softmax relaxation) and a decoder p(x|z) (an MLP ending in
``IndependentBernoulli`` over the image). The default network is the one-stochastic-layer
model of Burda et al. (2016): two hidden layers of 200 tanh units each way, 50 latents.

A VAE has no exact log-likelihood. The trainer maximises the ELBO through
``objective=ELBOObjective()``; training and validation report ``elbo``,
``reconstruction`` and ``kl`` (and ``elbo_bits_per_dim``), never ``log_prob``; each
epoch it validates on IWAE-k of the first 500 validation images (``val_iwae_<k>`` and
``val_elbo``, in the progress line and TensorBoard). At the
end the program prints the test ELBO over the whole test set and the tighter
importance-weighted bound IWAE-k (default k = 5000) over the first ``--iwae_examples``
test images, both lower bounds on log p(x), so their negatives are upper bounds on the
negative log-likelihood. It logs to TensorBoard, and writes a grid of samples and a grid
of test images beside their reconstructions each epoch, and 4x enlarged copies
(``samples_large_<epoch>.png``, ``reconstructions_large_<epoch>.png``).

    python examples/vae.py                              # binarized Fashion-MNIST, offline
    python examples/vae.py --dataset digits             # 8x8 digits, no download, 30 s
    python examples/vae.py --latent bernoulli           # 50 binary latents, relaxed
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import common
import datasets
import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal
from torch.utils.data import TensorDataset
from torchvision.utils import make_grid

from pygen.callbacks import (
    ImageFolderWriter,
    TBImagesCallback,
    TBMetricsCallback,
    TBReconstructionsCallback,
)
from pygen.distributions import VAE, ELBOObjective, IWAEObjective
from pygen.layers import IndependentBernoulli, IndependentNormal
from pygen.train import Callback, DistributionTrainer, evaluate

#: The default --max_epoch on the 8x8 digits (1318 training images: 13 batches an epoch).
DIGITS_EPOCHS = 50

#: Validation images IWAE-k is computed on each epoch (all of them when fewer).
VAL_IWAE_IMAGES = 500


class LargeImagesCallback(Callback):
    """Writes ``samples_large`` and ``reconstructions_large`` PNG grids, 4x upscaled, per epoch."""

    def __init__(self, vae: VAE, dataset: TensorDataset, folder: Path) -> None:
        self.vae = vae
        self.images = dataset.tensors[0][:8]
        self.writer = ImageFolderWriter(folder)

    def on_epoch_end(self, trainer: object) -> None:
        """Sample 16 images and reconstruct 8, and write both grids enlarged."""
        epoch = int(getattr(trainer, "epoch", 0))
        device = next(self.vae.parameters()).device
        with torch.no_grad():
            self.vae.eval()
            samples = self.vae.sample((16,)).float().cpu()
            pairs = torch.stack(
                [self.images, self.vae.reconstruct(self.images.to(device)).float().cpu()], 1
            ).flatten(0, 1)
            self.vae.train()
        for stem, images in (("samples_large", samples), ("reconstructions_large", pairs)):
            enlarged = nn.functional.interpolate(images.clamp(0, 1), scale_factor=4)
            grid = make_grid(enlarged, nrow=8 if stem == "samples_large" else 4, padding=4,
                             pad_value=0.5)  # fmt: skip
            self.writer.write(stem, grid, epoch)


def mlp(sizes: Sequence[int]) -> list[nn.Module]:
    """Linear layers of the given sizes with tanh between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        if index:
            layers.append(nn.Tanh())
        layers.append(nn.Linear(n_in, n_out))
    return layers


def build_vae(
    image_shape: Sequence[int],
    *,
    latent: str,
    latent_size: int,
    hidden_size: int,
    temperature: float,
    device: torch.device,
) -> VAE:
    """The encoder, decoder and prior of the example, assembled into a VAE.

    Args:
        image_shape: ``(C, H, W)`` of the binary images.
        latent: ``"gaussian"`` or ``"bernoulli"``.
        latent_size: the number of latent variables.
        hidden_size: the width of the two hidden layers of each network.
        temperature: the relaxation temperature of Bernoulli latents.
        device: where the model lives.

    Returns:
        The VAE, on ``device``.
    """
    pixels = math.prod(image_shape)
    if latent == "gaussian":
        head: nn.Module = IndependentNormal(latent_size)
        prior = Independent(
            Normal(torch.zeros(latent_size, device=device), torch.ones(latent_size, device=device)),
            1,
        )
        head_size = IndependentNormal.params_size(latent_size)
    else:
        head = IndependentBernoulli(latent_size)
        prior = Independent(Bernoulli(probs=torch.full((latent_size,), 0.5, device=device)), 1)
        head_size = IndependentBernoulli.params_size(latent_size)
    encoder = nn.Sequential(
        nn.Flatten(), *mlp([pixels, hidden_size, hidden_size]), nn.Tanh(),
        nn.Linear(hidden_size, head_size), head,
    )  # fmt: skip
    decoder = nn.Sequential(
        *mlp([latent_size, hidden_size, hidden_size, pixels]),
        IndependentBernoulli(list(image_shape)),
    )
    return VAE(
        encoder,
        decoder,
        prior,
        temperature=temperature if latent == "bernoulli" else None,
    ).to(device)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the example.

    Args:
        argv: the command line without the program name (default: ``sys.argv[1:]``).

    Returns:
        The test metrics: ``elbo`` (nats per image, over the test set), ``iwae_<k>``
        and ``subset_elbo`` (the IWAE-k bound and the ELBO over the first
        ``--iwae_examples`` test images), each a lower bound on ``log p(x)``, and
        ``elbo_seconds`` / ``iwae_seconds``, the time each evaluation took.
    """
    started = time.perf_counter()
    parser = common.example_parser(
        "pygen VAE: a VAE built from pygen layers, trained on its ELBO with DistributionTrainer",
        datasets_choices=("mnist", "fashion_mnist", "digits"),
        default_dataset="fashion_mnist",
        max_epoch=10,
        batch_size=100,
    )
    parser.add_argument(
        "--latent", default="gaussian", choices=["gaussian", "bernoulli"], help="latent kind"
    )
    parser.add_argument("--latent_size", default=50, type=int, help="number of latents")
    parser.add_argument("--hidden_size", default=200, type=int, help="hidden layer width")
    parser.add_argument(
        "--temperature", default=0.5, type=float, help="relaxation temperature (bernoulli)"
    )
    parser.add_argument("--learning_rate", default=1e-3, type=float, help="Adam step size")
    parser.add_argument(
        "--val_iwae_k",
        default=100,
        type=int,
        help=f"validate each epoch on IWAE-k (val_iwae_<k>, val_elbo) of the first "
        f"{VAL_IWAE_IMAGES} validation images: {VAL_IWAE_IMAGES} of the 5000 for mnist and "
        "fashion_mnist, all 120 for digits (0: the ELBO of the whole validation set)",
    )
    parser.add_argument("--iwae_k", default=5000, type=int, help="importance samples of IWAE-k")
    parser.add_argument(
        "--iwae_examples",
        default=1000,
        type=int,
        help="first test images IWAE-k is evaluated on (0: the whole test set)",
    )
    for action in parser._actions:  # one default per dataset, said once in --help
        if action.dest == "max_epoch":
            action.default = None
            action.help = (
                f"epochs to train (default: {DIGITS_EPOCHS} on digits, where 10 leave the "
                "KL near 0 and every reconstruction one grey blob; 10 otherwise)"
            )
    args = parser.parse_args(argv)
    if args.max_epoch is None:
        args.max_epoch = DIGITS_EPOCHS if args.dataset == "digits" else 10
    data, train, validation, test = common.load_splits(args, binary=True)
    run = common.start_run("vae", args, started)

    vae = build_vae(
        data.image_shape,
        latent=args.latent,
        latent_size=args.latent_size,
        hidden_size=args.hidden_size,
        temperature=args.temperature,
        device=run.device,
    )
    callbacks = [
        TBMetricsCallback(run.writer),  # epoch/elbo, ..., epoch/val_iwae_<k>, epoch/val_elbo
        TBImagesCallback(run.writer, "generated_images", folder=run.images_folder),
        TBReconstructionsCallback(
            run.writer, "reconstructions", validation, folder=run.images_folder
        ),
        # the same grids 4x larger (28x28 and 8x8 pixels are hard to see at their own size)
        LargeImagesCallback(vae, validation, run.images_folder),
    ]
    validation_objective = None
    if args.val_iwae_k > 0:  # val_iwae_<k> and val_elbo, in the progress line and TensorBoard
        validation = datasets.head(validation, VAL_IWAE_IMAGES)
        validation_objective = IWAEObjective(args.val_iwae_k, chunk_size=500)
    DistributionTrainer(
        vae,
        train,
        batch_size=args.batch_size,
        max_epoch=args.max_epoch,
        dummy_run=args.dummy_run,
        objective=ELBOObjective(),
        optimizer=lambda parameters: torch.optim.Adam(parameters, lr=args.learning_rate),
        callbacks=callbacks,
        validation_dataset=validation,
        validation_objective=validation_objective,
        seed=args.seed,
    ).train()

    timer = time.perf_counter()
    metrics = evaluate(vae, test, objective=ELBOObjective(), batch_size=500)
    elbo_seconds = time.perf_counter() - timer
    iwae_test = test if args.iwae_examples <= 0 else datasets.head(test, args.iwae_examples)
    iwae = IWAEObjective(args.iwae_k, chunk_size=500)
    timer = time.perf_counter()
    subset = evaluate(vae, iwae_test, objective=iwae, batch_size=10)
    iwae_seconds = time.perf_counter() - timer
    bound = subset[iwae.name]
    results = {
        "elbo": metrics["elbo"],
        iwae.name: bound,
        "subset_elbo": subset["elbo"],
        "elbo_seconds": elbo_seconds,
        "iwae_seconds": iwae_seconds,
    }
    # one figure per image set: test/elbo (all test images), test_<n>/iwae_<k> and
    # test_<n>/elbo (the first n), never two different ELBOs under one tag
    run.writer.add_scalar("test/elbo", results["elbo"], args.max_epoch)
    subset_tag = f"test_{len(iwae_test)}"
    run.writer.add_scalar(f"{subset_tag}/{iwae.name}", bound, args.max_epoch)
    run.writer.add_scalar(f"{subset_tag}/elbo", subset["elbo"], args.max_epoch)
    bits_bound = -bound / (math.prod(data.image_shape) * math.log(2))
    run.finish(
        {
            "test ELBO": f"{metrics['elbo']:.2f} nats per image (a lower bound on log p(x); "
            f"-ELBO = {-metrics['elbo']:.2f} bounds the NLL from above), "
            f"{len(test)} binarized {args.dataset} test images, {elbo_seconds:.1f} s",
            f"test IWAE-{args.iwae_k}": f"{bound:.2f} nats per image (a lower bound on "
            f"log p(x): NLL <= {-bound:.2f} nats, <= {bits_bound:.4f} bits/dim), "
            f"first {len(iwae_test)} test images (their ELBO: {subset['elbo']:.2f}), "
            f"{iwae_seconds:.1f} s",
        }
    )
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

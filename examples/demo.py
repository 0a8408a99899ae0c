"""The pygen demo: a classifier and a PixelCNN trained on data that needs no download.

Trains, on the 8x8 handwritten digits bundled with scikit-learn (1797 images):

1. a digit classifier (a small convolutional network -> ``Categorical`` layer) with
   ``LayerTrainer``, maximising the log-likelihood of the labels;
2. a PixelCNN over binarized digits (``PixelCNNBernoulliDistribution``) with
   ``DistributionTrainer``, maximising the log-likelihood of the images.

It writes TensorBoard logs and PNG grids (PixelCNN samples, labelled test
classifications) under ``--output`` (default ``./demo_output``) and prints where they are
with the held-out accuracy and negative log-likelihood. It takes about two minutes on a
2-core CPU.

    python examples/demo.py                 # or: nox -s demo
    python examples/demo.py --quick         # a few seconds: one epoch of each, small nets
    tensorboard --logdir demo_output/tensorboard
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import common
import datasets
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from pygen.callbacks import (
    ImageFolderWriter,
    TBClassifyImagesCallback,
    TBCompletionsCallback,
    TBImagesCallback,
    TBMetricsCallback,
    make_labelled_images_grid,
)
from pygen.distributions.pixelcnn import PixelCNNBernoulliDistribution
from pygen.layers import Categorical, ClassifierNet
from pygen.train import DistributionTrainer, LayerTrainer, evaluate


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--output", default="demo_output", help="folder for logs and images")
    parser.add_argument("--classifier_epochs", default=10, type=int)
    parser.add_argument("--pixelcnn_epochs", default=20, type=int)
    parser.add_argument("--hidden_channels", default=64, type=int, help="PixelCNN width")
    parser.add_argument("--num_layers", default=5, type=int, help="PixelCNN gated layers")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument(
        "--threads",
        default=1,
        type=int,
        help="CPU threads for torch (0: torch's default, one per core); these small models "
        "gain little from more, and one thread does not slow to a crawl when other programs "
        "share the cores",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one epoch of each with a small PixelCNN (smoke test)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.classifier_epochs, args.pixelcnn_epochs = 1, 1
        args.hidden_channels, args.num_layers = 16, 2
    return args


def train_classifier(
    args: argparse.Namespace, data: datasets.ImageDatasets, output: Path, images: Path
) -> dict[str, float]:
    """Train the digit classifier; return its test metrics."""
    train, validation = datasets.split_validation(data.train, 120, seed=args.seed)
    classifier = nn.Sequential(
        ClassifierNet(
            num_classes=data.num_classes,
            input_shape=data.image_shape,
            padding=1 if min(data.image_shape[1:]) < 28 else 0,  # the 8x8 digits
        ),
        Categorical(),
    ).to(args.device)
    writer = SummaryWriter(str(output / "tensorboard" / "classifier"))
    LayerTrainer(
        classifier,
        train,
        max_epoch=args.classifier_epochs,
        callbacks=[
            TBMetricsCallback(writer),
            TBClassifyImagesCallback(
                writer, "test_classifications", data.test, data.classes, dpi=60, folder=images
            ),
        ],
        validation_dataset=validation,
        seed=args.seed,
        progress=False,
    ).train()
    metrics = evaluate(classifier, data.test, mode="layer", batch_size=512)
    writer.add_scalar("test/accuracy", metrics["accuracy"], args.classifier_epochs)
    writer.close()
    return metrics


def train_pixelcnn(
    args: argparse.Namespace, data: datasets.ImageDatasets, output: Path, images: Path
) -> dict[str, float]:
    """Train the PixelCNN on binarized digits; return its test metrics."""
    binary_train = datasets.binarize(data.train)
    binary_test = datasets.binarize(data.test)
    train, validation = datasets.split_validation(binary_train, 120, seed=args.seed)
    pixelcnn = PixelCNNBernoulliDistribution(
        event_shape=list(data.image_shape),
        hidden_channels=args.hidden_channels,
        num_layers=args.num_layers,
    ).to(args.device)
    writer = SummaryWriter(str(output / "tensorboard" / "pixelcnn"))
    DistributionTrainer(
        pixelcnn,
        train,
        max_epoch=args.pixelcnn_epochs,
        callbacks=[
            TBMetricsCallback(writer),
            TBImagesCallback(writer, "samples", num_samples=64, nrow=8, padding=2, folder=images),
            # Held-out digits, their top halves, and four completions of the bottom half.
            TBCompletionsCallback(
                writer, "completions", binary_test, num_completions=4, folder=images
            ),
        ],
        validation_dataset=validation,
        seed=args.seed,
        progress=False,
    ).train()
    metrics = evaluate(pixelcnn, binary_test, mode="distribution", batch_size=512)
    writer.add_scalar("test/log_prob", metrics["log_prob"], args.pixelcnn_epochs)
    writer.add_scalar("test/bits_per_dim", metrics["bits_per_dim"], args.pixelcnn_epochs)
    # A larger copy of the final samples: 8x8 pixels are hard to see at their own size.
    samples = pixelcnn.sample((64,), generator=torch.Generator(args.device).manual_seed(0))
    enlarged = nn.functional.interpolate(samples.float().cpu(), scale_factor=4, mode="nearest")
    grid = make_grid(enlarged.clamp(0, 1), nrow=8, padding=4, pad_value=0.5)
    ImageFolderWriter(images).write("samples_large", grid, args.pixelcnn_epochs)
    # The same for completions: 8 test digits, their top halves, 6 completions each.
    digits = binary_test.tensors[0][:8].to(args.device)
    top_half = torch.zeros(digits.shape[1:], dtype=torch.bool, device=args.device)
    top_half[:, : digits.shape[-2] // 2] = True
    completions = pixelcnn.complete(
        digits, top_half, (6,), generator=torch.Generator(args.device).manual_seed(0)
    )
    observed = torch.where(top_half, digits, torch.full_like(digits, 0.5))
    rows = torch.cat([digits[:, None], observed[:, None], completions.transpose(0, 1)], dim=1)
    # The legend: the first row's titles name the columns.
    columns = ["original", "observed", *(f"drawn {i + 1}" for i in range(6))]
    titles = columns + [""] * (rows.shape[0] - 1) * rows.shape[1]
    grid = make_labelled_images_grid(
        rows.flatten(0, 1).float().cpu(),
        titles,
        ncols=rows.shape[1],
        cell_inches=1.4,
        title="each row: a test digit, its top half (the grey bottom is hidden), "
        "and 6 bottom halves drawn by the PixelCNN",
    )
    ImageFolderWriter(images).write("completions_large", grid, args.pixelcnn_epochs)
    writer.close()
    return metrics


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the demo.

    Args:
        argv: the command line without the program name (default: ``sys.argv[1:]``).

    Returns:
        ``{"accuracy", "nll_nats", "bits_per_dim", "seconds"}``.
    """
    args = parse_args(argv)
    started = time.perf_counter()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    output = Path(args.output).expanduser()
    images = output / "images"
    images.mkdir(parents=True, exist_ok=True)
    data = datasets.load_digits(seed=args.seed)
    print(
        f"pygen demo: {len(data.train)} train / {len(data.test)} test 8x8 digits from {data.source}"
    )

    print(f"1/2 classifier: {args.classifier_epochs} epochs of LayerTrainer ...", flush=True)
    classifier_metrics = train_classifier(args, data, output, images)
    print(f"    test accuracy {classifier_metrics['accuracy']:.4f}", flush=True)

    print(f"2/2 PixelCNN: {args.pixelcnn_epochs} epochs of DistributionTrainer ...", flush=True)
    pixelcnn_metrics = train_pixelcnn(args, data, output, images)
    print(f"    test NLL {common.format_nll(pixelcnn_metrics)}", flush=True)

    seconds = time.perf_counter() - started
    results = {
        "accuracy": classifier_metrics["accuracy"],
        "nll_nats": -pixelcnn_metrics["log_prob"],
        "bits_per_dim": pixelcnn_metrics["bits_per_dim"],
        "seconds": seconds,
    }
    (output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    pngs = sorted(images.glob("*.png"))
    print(f"\nDone in {seconds:.0f} s. Held-out results on {len(data.test)} test digits:")
    print(f"  classifier accuracy       {results['accuracy']:.4f}")
    print(
        f"  PixelCNN NLL (binarized)  {results['nll_nats']:.2f} nats per image, "
        f"{results['bits_per_dim']:.4f} bits/dim"
    )
    print(f"TensorBoard logs:  {output / 'tensorboard'}  (tensorboard --logdir {output})")
    print(f"PNG image grids:   {images}  ({len(pngs)} files), the last of each:")
    for stem in ("test_classifications", "samples", "samples_large", "completions_large"):
        latest = sorted(images.glob(f"{stem}_[0-9][0-9][0-9][0-9].png"))
        if latest:
            print(f"  {latest[-1]}")
    print(f"Results:           {output / 'results.json'}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

"""Train a PixelCNN on binarized digits with pygen's DistributionTrainer.

``PixelCNNBernoulliDistribution`` is a distribution over binary images (a gated PixelCNN,
one Bernoulli per pixel given the pixels above and to the left) and an ``nn.Module``:
``DistributionTrainer`` maximises its ``log_prob`` of the training images. Images are
binarized at 0.5. Logs to TensorBoard every batch and epoch, writes a grid of 16 samples
and a grid of completions (8 validation images, their top halves, 3 completions of the
bottom half each, drawn by the cached fast sampler) each epoch, and prints the test
negative log-likelihood in nats per image and bits/dim.

    python examples/mnist_pixelcnn.py                          # binarized MNIST (downloads)
    python examples/mnist_pixelcnn.py --dataset fashion_mnist  # offline with Debian's files
    python examples/mnist_pixelcnn.py --dataset digits         # 8x8 digits, no download
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import common

from pygen.callbacks import (
    TBBatchLogProbCallback,
    TBCompletionsCallback,
    TBImagesCallback,
    TBMetricsCallback,
)
from pygen.distributions.pixelcnn import PixelCNNBernoulliDistribution
from pygen.train import DistributionTrainer, evaluate


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the example.

    Args:
        argv: the command line without the program name (default: ``sys.argv[1:]``).

    Returns:
        The test metrics: ``log_prob`` (nats per image) and ``bits_per_dim``.
    """
    started = time.perf_counter()
    parser = common.example_parser(
        "pygen MNIST PixelCNN: PixelCNNBernoulliDistribution trained with DistributionTrainer",
        datasets_choices=("mnist", "fashion_mnist", "digits"),
        default_dataset="mnist",
        max_epoch=10,
    )
    parser.add_argument("--hidden_channels", default=64, type=int, help="PixelCNN width")
    parser.add_argument("--num_layers", default=8, type=int, help="PixelCNN gated layers")
    args = parser.parse_args(argv)
    data, train, validation, test = common.load_splits(args, binary=True)
    run = common.start_run("mnist_pixelcnn", args, started)

    digit_distribution = PixelCNNBernoulliDistribution(
        event_shape=list(data.image_shape),
        hidden_channels=args.hidden_channels,
        num_layers=args.num_layers,
    ).to(run.device)
    callbacks = [
        TBBatchLogProbCallback(run.writer, "batch_log_prob"),
        TBMetricsCallback(run.writer),
        TBImagesCallback(run.writer, "generated_images", folder=run.images_folder),
        TBCompletionsCallback(run.writer, "completions", validation, folder=run.images_folder),
    ]
    DistributionTrainer(
        digit_distribution,
        train,
        batch_size=args.batch_size,
        max_epoch=args.max_epoch,
        dummy_run=args.dummy_run,
        callbacks=callbacks,
        validation_dataset=validation,
        seed=args.seed,
    ).train()

    metrics = evaluate(digit_distribution, test, mode="distribution", batch_size=256)
    run.writer.add_scalar("test/log_prob", metrics["log_prob"], args.max_epoch)
    run.writer.add_scalar("test/bits_per_dim", metrics["bits_per_dim"], args.max_epoch)
    run.finish(
        {
            "test NLL": f"{common.format_nll(metrics)} "
            f"({len(test)} binarized {args.dataset} test images)",
        }
    )
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])

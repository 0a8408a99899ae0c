"""Train a PixelCNN on CIFAR-10 images with pygen's DistributionTrainer.

Two per-sub-pixel distributions (``--distribution``):

- ``quantized`` (the original): ``PixelCNNQuantizedDistribution``, a categorical over
  ``--num_buckets`` equal buckets of [0, 1]. Its ``log_prob`` is a log probability
  *mass* over buckets, so its bits/dim are not comparable with 8-bit models.
- ``logistic_mixture``: ``PixelCNNLogisticMixtureDistribution``, a discretized logistic
  mixture on the 256 grey levels (PixelCNN++'s likelihood), whose bits/dim are the
  figure papers report (PixelCNN++: 2.92 with a much larger network and long training).

Logs to TensorBoard every batch and epoch, writes 16 samples each epoch, and prints the
test negative log-likelihood.

    python examples/cifar10_pixelcnn.py --datasets_folder ~/datasets --max_epoch 10
    python examples/cifar10_pixelcnn.py --distribution logistic_mixture --device cuda
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import common

from pygen.callbacks import TBBatchLogProbCallback, TBImagesCallback, TBMetricsCallback
from pygen.distributions.pixelcnn import (
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)
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
        "pygen CIFAR-10 PixelCNN trained with DistributionTrainer",
        datasets_choices=("cifar10",),
        default_dataset="cifar10",
        max_epoch=10,
    )
    parser.add_argument(
        "--distribution", default="quantized", choices=["quantized", "logistic_mixture"]
    )
    parser.add_argument("--num_buckets", default=8, type=int, help="buckets (quantized)")
    parser.add_argument("--num_mixtures", default=5, type=int, help="components (mixture)")
    parser.add_argument("--hidden_channels", default=64, type=int, help="PixelCNN width")
    parser.add_argument("--num_layers", default=8, type=int, help="PixelCNN gated layers")
    args = parser.parse_args(argv)
    data, train, validation, test = common.load_splits(args, validation_fraction=0.1)
    run = common.start_run(f"cifar10_pixelcnn-{args.distribution}", args, started)

    if args.distribution == "quantized":
        image_distribution = PixelCNNQuantizedDistribution(
            event_shape=list(data.image_shape),
            num_buckets=args.num_buckets,
            hidden_channels=args.hidden_channels,
            num_layers=args.num_layers,
        )
    else:
        image_distribution = PixelCNNLogisticMixtureDistribution(
            event_shape=list(data.image_shape),
            num_mixtures=args.num_mixtures,
            hidden_channels=args.hidden_channels,
            num_layers=args.num_layers,
        )
    image_distribution.to(run.device)
    callbacks = [
        TBBatchLogProbCallback(run.writer, "batch_log_prob"),
        TBMetricsCallback(run.writer),
        TBImagesCallback(run.writer, "generated_images", folder=run.images_folder),
    ]
    DistributionTrainer(
        image_distribution,
        train,
        batch_size=args.batch_size,
        max_epoch=args.max_epoch,
        dummy_run=args.dummy_run,
        callbacks=callbacks,
        validation_dataset=validation,
        seed=args.seed,
    ).train()

    metrics = evaluate(image_distribution, test, mode="distribution", batch_size=64)
    run.writer.add_scalar("test/log_prob", metrics["log_prob"], args.max_epoch)
    run.writer.add_scalar("test/bits_per_dim", metrics["bits_per_dim"], args.max_epoch)
    unit = "bucket mass" if args.distribution == "quantized" else "8-bit"
    run.finish(
        {"test NLL": f"{common.format_nll(metrics)} ({unit}, {len(test)} CIFAR-10 test images)"}
    )
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])

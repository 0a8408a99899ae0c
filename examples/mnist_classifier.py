"""Train a digit (or clothing) classifier with pygen's LayerTrainer.

``ClassifierNet`` -> ``Categorical``: a layer mapping an image to a categorical
distribution over its ten classes, trained by maximising the log-likelihood of the labels
(``LayerTrainer``). Logs to TensorBoard every batch and epoch, writes a labelled grid of
validation images each epoch, and prints the final test accuracy.

    python examples/mnist_classifier.py                          # MNIST (downloads it)
    python examples/mnist_classifier.py --dataset fashion_mnist  # offline with Debian's files
    python examples/mnist_classifier.py --dataset digits         # 8x8 digits, no download
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import common
from torch import nn

from pygen.callbacks import TBBatchLogProbCallback, TBClassifyImagesCallback, TBMetricsCallback
from pygen.layers import Categorical, ClassifierNet
from pygen.train import LayerTrainer, evaluate


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the example.

    Args:
        argv: the command line without the program name (default: ``sys.argv[1:]``).

    Returns:
        The test metrics: ``log_prob`` (mean log-likelihood of the labels) and ``accuracy``.
    """
    started = time.perf_counter()
    parser = common.example_parser(
        "pygen MNIST classifier: ClassifierNet + Categorical trained with LayerTrainer",
        datasets_choices=("mnist", "fashion_mnist", "digits"),
        default_dataset="mnist",
        max_epoch=10,
    )
    args = parser.parse_args(argv)
    data, train, validation, test = common.load_splits(args)
    run = common.start_run("mnist_classifier", args, started)

    classifier = nn.Sequential(
        ClassifierNet(
            num_classes=data.num_classes,
            input_shape=data.image_shape,
            padding=1 if min(data.image_shape[1:]) < 28 else 0,  # the 8x8 digits
        ),
        Categorical(),
    ).to(run.device)
    callbacks = [
        TBBatchLogProbCallback(run.writer, "batch_log_prob"),
        TBMetricsCallback(run.writer),
        TBClassifyImagesCallback(
            run.writer, "validation_classifications", validation, data.classes,
            folder=run.images_folder,
        ),
    ]  # fmt: skip
    LayerTrainer(
        classifier,
        train,
        batch_size=args.batch_size,
        max_epoch=args.max_epoch,
        dummy_run=args.dummy_run,
        callbacks=callbacks,
        validation_dataset=validation,
        seed=args.seed,
    ).train()

    metrics = evaluate(classifier, test, mode="layer", batch_size=256)
    run.writer.add_scalar("test/accuracy", metrics["accuracy"], args.max_epoch)
    run.writer.add_scalar("test/log_prob", metrics["log_prob"], args.max_epoch)
    run.finish(
        {
            "test accuracy": f"{metrics['accuracy']:.4f} ({len(test)} {args.dataset} test images)",
            "test log-likelihood": f"{metrics['log_prob']:.4f} nats per label",
        }
    )
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])

"""Train a CIFAR-10 classifier with pygen's LayerTrainer.

``ClassifierNet(mnist=False)`` -> ``Categorical``: a layer mapping a 32x32 colour image to
a categorical distribution over the ten CIFAR-10 classes, trained by maximising the
log-likelihood of the labels. Logs to TensorBoard, writes a labelled grid of validation
images each epoch, and prints the final test accuracy.

    python examples/cifar10_classifier.py --datasets_folder ~/datasets --max_epoch 10
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
        "pygen CIFAR-10 classifier: ClassifierNet(mnist=False) + Categorical, LayerTrainer",
        datasets_choices=("cifar10",),
        default_dataset="cifar10",
        max_epoch=10,
    )
    args = parser.parse_args(argv)
    # 45000 train / 5000 validation, as the original.
    data, train, validation, test = common.load_splits(args, validation_fraction=0.1)
    run = common.start_run("cifar10_classifier", args, started)

    classifier = nn.Sequential(
        ClassifierNet(mnist=False, num_classes=data.num_classes), Categorical()
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
            "test accuracy": f"{metrics['accuracy']:.4f} ({len(test)} CIFAR-10 test images)",
            "test log-likelihood": f"{metrics['log_prob']:.4f} nats per label",
        }
    )
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])

"""Generate digit images conditioned on their label, trained with pygen's LayerTrainer.

A layer maps a digit label to a distribution over binary images; ``LayerTrainer`` with
``reverse_inputs=True`` maximises ``model(label).log_prob(image)`` over ``(image, label)``
pairs. Two models (``--model``):

- ``bernoulli`` (the original): ``OneHot(10) -> Linear -> IndependentBernoulli``, one
  independent Bernoulli per pixel whose logits depend only on the label (a learned
  "average" image per class);
- ``pixelcnn``: ``OneHot(10) -> ConditionalAutoregressive(PixelCNNBernoulliDistribution(
  condition_size=10))``, a gated PixelCNN conditioned on the one-hot label, pixels
  depending on the label and on the pixels above and to the left.

Each epoch writes a grid with one row per digit (two samples each) to TensorBoard and as
PNG, and the run prints the test negative log-likelihood of the images given their labels.

    python examples/conditional_mnist.py --dataset digits
    python examples/conditional_mnist.py --dataset digits --model pixelcnn
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import common
import torch
from torch import nn

from pygen.callbacks import (
    TBBatchLogProbCallback,
    TBConditionalImagesCallback,
    TBMetricsCallback,
)
from pygen.distributions.pixelcnn import PixelCNNBernoulliDistribution
from pygen.layers import ConditionalAutoregressive, IndependentBernoulli, OneHot
from pygen.train import LayerTrainer, evaluate


def build_model(
    model: str, image_shape: Sequence[int], num_classes: int, hidden: int, layers: int
) -> nn.Module:
    """The label -> image-distribution layer chosen by ``--model``.

    Args:
        model: ``"bernoulli"`` or ``"pixelcnn"``.
        image_shape: ``[C, H, W]``.
        num_classes: the number of labels.
        hidden: the PixelCNN's width (pixelcnn only).
        layers: the PixelCNN's depth (pixelcnn only).

    Returns:
        The layer.
    """
    if model == "pixelcnn":
        pixelcnn = PixelCNNBernoulliDistribution(
            event_shape=list(image_shape),
            hidden_channels=hidden,
            num_layers=layers,
            condition_size=num_classes,
        )
        return nn.Sequential(OneHot(num_classes), ConditionalAutoregressive(pixelcnn))
    return nn.Sequential(
        OneHot(num_classes),
        nn.Linear(num_classes, IndependentBernoulli.params_size(list(image_shape))),
        IndependentBernoulli(event_shape=list(image_shape)),
    )


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the example.

    Args:
        argv: the command line without the program name (default: ``sys.argv[1:]``).

    Returns:
        The test metrics: ``log_prob`` (nats per image given its label) and ``bits_per_dim``.
    """
    started = time.perf_counter()
    parser = common.example_parser(
        "pygen conditional MNIST: images generated given their digit label",
        datasets_choices=("mnist", "fashion_mnist", "digits"),
        default_dataset="mnist",
        max_epoch=10,
    )
    parser.add_argument("--model", default="bernoulli", choices=["bernoulli", "pixelcnn"])
    parser.add_argument("--hidden_channels", default=64, type=int, help="PixelCNN width")
    parser.add_argument("--num_layers", default=8, type=int, help="PixelCNN gated layers")
    args = parser.parse_args(argv)
    data, train, validation, test = common.load_splits(args, binary=True)
    run = common.start_run(f"conditional_mnist-{args.model}", args, started)

    conditional_digit_distribution = build_model(
        args.model, data.image_shape, data.num_classes, args.hidden_channels, args.num_layers
    ).to(run.device)
    callbacks = [
        TBBatchLogProbCallback(run.writer, "batch_log_prob"),
        TBMetricsCallback(run.writer),
        TBConditionalImagesCallback(
            run.writer, "conditional_generated_images", data.num_classes,
            conditionals=torch.arange(data.num_classes), folder=run.images_folder,
        ),
    ]  # fmt: skip
    LayerTrainer(
        conditional_digit_distribution,
        train,
        batch_size=args.batch_size,
        max_epoch=args.max_epoch,
        dummy_run=args.dummy_run,
        reverse_inputs=True,
        callbacks=callbacks,
        validation_dataset=validation,
        seed=args.seed,
    ).train()

    metrics = evaluate(
        conditional_digit_distribution, test, mode="layer", batch_size=256, reverse_inputs=True
    )
    run.writer.add_scalar("test/log_prob", metrics["log_prob"], args.max_epoch)
    run.finish(
        {
            "test NLL": f"{common.format_nll(metrics)} given the label "
            f"({len(test)} binarized {args.dataset} test images)",
        }
    )
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])

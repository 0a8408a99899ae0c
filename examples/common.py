"""What every pygen example shares: its command line, its output folders, its report.

The examples are scripts (``python examples/mnist_classifier.py --help``); Python puts the
script's folder first on ``sys.path``, so they import this module and :mod:`datasets` by
name from any working directory.

Every example takes the original pygen options:

``--datasets_folder``  where torchvision datasets are read from (and downloaded to);
``--tb_folder``        the TensorBoard log folder (default: ``runs/<example>-<dataset>-<time>``);
``--images_folder``    where PNG image grids are written (default: ``<tb_folder>/images``);
``--device``           ``cpu``, ``cuda``, ``cuda:1``, ... (default ``cpu``);
``--max_epoch``        the number of training epochs;
``--dummy_run``        one batch per epoch and at most 256 evaluation images: a quick
                       check that the whole program runs;

and ``--dataset`` where it can train on several datasets, plus ``--batch_size``,
``--seed``, ``--threads`` and ``--offline`` (never download; fail with instructions
instead).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import torch
from torch.utils.data import TensorDataset
from torch.utils.tensorboard import SummaryWriter

__all__ = [
    "DUMMY_RUN_EXAMPLES",
    "DefaultsOnceFormatter",
    "ExampleRun",
    "example_parser",
    "format_nll",
    "load_splits",
    "start_run",
]

#: How many validation/test examples a ``--dummy_run`` keeps.
DUMMY_RUN_EXAMPLES = 256


class DefaultsOnceFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: ...)`` to an option's help unless the help already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.help is not None and "(default:" in action.help:
            return action.help
        return super()._get_help_string(action)


def example_parser(
    description: str,
    *,
    datasets_choices: Sequence[str],
    default_dataset: str,
    max_epoch: int,
    batch_size: int = 32,
) -> argparse.ArgumentParser:
    """The command line shared by the examples (see the module docstring).

    Args:
        description: what the example does, shown by ``--help``.
        datasets_choices: the datasets ``--dataset`` accepts (one choice hides the option's
            effect but keeps it, so every example accepts the same command line).
        default_dataset: the default of ``--dataset``.
        max_epoch: the default of ``--max_epoch``.
        batch_size: the default of ``--batch_size``.

    Returns:
        A parser; an example adds its own options before parsing.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=DefaultsOnceFormatter)
    parser.add_argument(
        "--dataset", default=default_dataset, choices=list(datasets_choices), help="the data"
    )
    parser.add_argument(
        "--datasets_folder",
        default="~/datasets",
        help="where the torchvision datasets are read from and downloaded to",
    )
    parser.add_argument(
        "--tb_folder",
        default=None,
        help="TensorBoard log folder (default: runs/<example>-<dataset>-<time>)",
    )
    parser.add_argument(
        "--images_folder",
        default=None,
        help="folder for the PNG image grids (default: <tb_folder>/images)",
    )
    parser.add_argument("--device", default="cpu", help="torch device to train on")
    parser.add_argument("--max_epoch", default=max_epoch, type=int, help="epochs to train")
    parser.add_argument("--batch_size", default=batch_size, type=int, help="examples per batch")
    parser.add_argument("--seed", default=0, type=int, help="seed of the run's randomness")
    parser.add_argument(
        "--threads", default=0, type=int, help="CPU threads for torch (0: torch's default)"
    )
    parser.add_argument(
        "--dummy_run",
        action="store_true",
        help=f"one batch per epoch, at most {DUMMY_RUN_EXAMPLES} evaluation images",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never download a dataset; say how to get missing files instead",
    )
    return parser


@dataclass
class ExampleRun:
    """One run of an example: its arguments, TensorBoard writer and output folders.

    Attributes:
        name: the example's name.
        args: the parsed command line.
        device: the torch device to train on.
        writer: the TensorBoard writer (logs go to ``tb_folder``).
        tb_folder: the TensorBoard log folder.
        images_folder: the folder the image callbacks write PNG grids to.
        started: ``time.perf_counter()`` when the example's ``main`` started.
    """

    name: str
    args: argparse.Namespace
    device: torch.device
    writer: SummaryWriter
    tb_folder: Path
    images_folder: Path
    started: float

    def finish(self, results: dict[str, str]) -> None:
        """Close the writer and print where the outputs are and the final results.

        Args:
            results: label -> formatted value, printed in order.
        """
        self.writer.flush()
        self.writer.close()
        elapsed = time.perf_counter() - self.started
        images = sorted(self.images_folder.glob("*.png"))
        width = max(len(label) for label in [*results, "TensorBoard logs", "image grids"])
        print(f"\n{self.name} finished in {elapsed:.1f} s")
        for label, value in results.items():
            print(f"  {label:<{width}}  {value}")
        print(f"  {'TensorBoard logs':<{width}}  {self.tb_folder}  (tensorboard --logdir ...)")
        print(f"  {'image grids':<{width}}  {self.images_folder}  ({len(images)} PNG files)")


def start_run(name: str, args: argparse.Namespace, started: float) -> ExampleRun:
    """Seed torch, pick the device and open the TensorBoard writer and image folder.

    Args:
        name: the example's name (used in the default log folder).
        args: the parsed command line of :func:`example_parser`.
        started: ``time.perf_counter()`` at the start of ``main`` (the time printed at the
            end covers data loading, training and evaluation).

    Returns:
        The run.
    """
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if args.tb_folder is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        tb_folder = Path("runs") / f"{name}-{args.dataset}-{stamp}"
    else:
        tb_folder = Path(args.tb_folder).expanduser()
    images_folder = (
        tb_folder / "images" if args.images_folder is None else Path(args.images_folder)
    ).expanduser()
    images_folder.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(tb_folder))
    return ExampleRun(name, args, device, writer, tb_folder, images_folder, started)


def load_splits(
    args: argparse.Namespace, *, validation_fraction: float = 1 / 12, binary: bool = False
) -> tuple[datasets.ImageDatasets, TensorDataset, TensorDataset, TensorDataset]:
    """Load ``args.dataset`` and split a validation set off its training set.

    Args:
        args: the parsed command line.
        validation_fraction: the fraction of the training set held out for validation
            (1/12 gives the original 55000/5000 split of MNIST's 60000).
        binary: binarize the images at 0.5 (for Bernoulli models).

    Returns:
        ``(data, train, validation, test)``; with ``--dummy_run`` the validation and test
        sets are cut to their first :data:`DUMMY_RUN_EXAMPLES` examples.

    Raises:
        SystemExit: with the instructions of :class:`datasets.DatasetNotFoundError` when the
            dataset is missing and was not downloaded.
    """
    try:
        data = datasets.load_dataset(args.dataset, args.datasets_folder, download=not args.offline)
    except datasets.DatasetNotFoundError as error:
        raise SystemExit(f"error: {error}") from None
    train = datasets.binarize(data.train) if binary else data.train
    test = datasets.binarize(data.test) if binary else data.test
    train, validation = datasets.split_validation(
        train, max(1, round(len(train) * validation_fraction)), seed=args.seed
    )
    if args.dummy_run:
        validation = datasets.head(validation, DUMMY_RUN_EXAMPLES)
        test = datasets.head(test, DUMMY_RUN_EXAMPLES)
    print(
        f"{args.dataset}: {len(train)} train, {len(validation)} validation, {len(test)} test "
        f"images of shape {list(data.image_shape)} from {data.source}"
    )
    return data, train, validation, test


def format_nll(metrics: dict[str, float]) -> str:
    """``"<nats> nats per image, <bits> bits/dim"`` from an evaluation's metrics.

    Args:
        metrics: ``{"log_prob": ..., "bits_per_dim": ...}`` from ``pygen.train.evaluate``.

    Returns:
        The negative log-likelihood, formatted.
    """
    nll = -metrics["log_prob"]
    bits = metrics.get("bits_per_dim", math.nan)
    return f"{nll:.2f} nats per image, {bits:.4f} bits/dim"

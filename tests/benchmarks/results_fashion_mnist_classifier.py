"""Benchmark: the classifier example's test accuracy on real Fashion-MNIST, and its time.

Runs ``examples/mnist_classifier.py --dataset fashion_mnist`` (``ClassifierNet`` ->
``Categorical`` trained by ``LayerTrainer``: Adam at 1e-3, batch 32, 55000 training and
5000 validation images) for ``--epochs`` epochs, offline, on the IDX files of Debian's
``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``, or the folder in
``PYGEN_FASHION_MNIST_FOLDER``), and reports the accuracy on the 10000 test images beside
the goal of 90% (the Fashion-MNIST benchmark's 2-conv CNN baselines reach 0.90 to 0.925).

    python tests/benchmarks/results_fashion_mnist_classifier.py --epochs 3 --json out.json

Without the dataset it prints why and writes no rows.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import torch

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BENCHMARK = "fashion_mnist_classifier"
GOAL = 0.90


def import_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` by name, with examples/ on sys.path as when run as a script."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def hardware() -> str:
    """A short description of the machine the benchmark ran on."""
    cores = os.cpu_count() or 0
    return f"{cores}-core {platform.machine()} CPU, torch {torch.__version__}"


def format_table(rows: list[dict]) -> str:
    """The rows as an aligned text table."""
    header = ["metric", "value", "unit", "detail"]
    lines = [[row["metric"], f"{row['value']:.4g}", row["unit"], row["detail"]] for row in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    )


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Run the benchmark.

    Args:
        argv: the command line without the program name (default: ``sys.argv[1:]``).

    Returns:
        The result rows ``{"benchmark", "metric", "value", "unit", "detail"}`` (empty when
        the dataset is missing).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default=3, type=int, help="training epochs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", default=1, type=int, help="torch CPU threads (0: default)")
    parser.add_argument(
        "--datasets_folder",
        default=None,
        help="where FashionMNIST/raw is (default: a temporary folder filled from the offline copy)",
    )
    parser.add_argument("--json", default=None, help="write the result rows to this file")
    args = parser.parse_args(argv)

    datasets = import_example("datasets")
    if args.datasets_folder is None and datasets.find_debian_fashion_mnist() is None:
        print(
            f"{BENCHMARK}: skipped, no offline Fashion-MNIST (install the Debian package "
            f"dataset-fashion-mnist or set {datasets.FASHION_MNIST_FOLDER_VARIABLE})"
        )
        rows: list[dict] = []
    else:
        classifier = import_example("mnist_classifier")
        with tempfile.TemporaryDirectory(prefix="pygen-bench-") as scratch:
            folder = args.datasets_folder or str(Path(scratch) / "datasets")
            example_argv = [
                "--dataset", "fashion_mnist", "--offline",
                "--max_epoch", str(args.epochs),
                "--device", args.device,
                "--threads", str(args.threads),
                "--datasets_folder", folder,
                "--tb_folder", str(Path(scratch) / "tb"),
            ]  # fmt: skip
            started = time.perf_counter()
            metrics = classifier.main(example_argv)
            seconds = time.perf_counter() - started
        threads = torch.get_num_threads()
        detail = (
            f"examples/mnist_classifier.py --dataset fashion_mnist --max_epoch {args.epochs}; "
            f"{args.device}, {threads} thread(s), {hardware()}"
        )
        rows = [
            {
                "benchmark": BENCHMARK,
                "metric": "test_accuracy",
                "value": metrics["accuracy"],
                "unit": "fraction",
                "detail": detail,
            },
            {
                "benchmark": BENCHMARK,
                "metric": "accuracy_over_goal",
                "value": metrics["accuracy"] / GOAL,
                "unit": "ratio",
                "detail": f"test accuracy / {GOAL} (>= 1 meets the goal)",
            },
            {
                "benchmark": BENCHMARK,
                "metric": "wall_time",
                "value": seconds,
                "unit": "s",
                "detail": "data loading, training, validation, images and test evaluation",
            },
        ]
        print()
        print(format_table(rows))
    if args.json is not None:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])

"""Train PixelCNN (Bernoulli) and MADE on binarized Fashion-MNIST within a CPU-time budget.

Run by hand or by ``nox -s bench``::

    python tests/benchmarks/results_fashion_mnist_likelihood.py [--budget 480] [--json PATH]

Data: the IDX files of Debian's ``dataset-fashion-mnist`` package in
``/usr/share/datasets/fashion-mnist`` (``--data-dir``), parsed directly (no download),
binarized deterministically by the threshold ``pixel / 255 > 0.5``. Each model trains on
the 60 000 training images with Adam for ``--budget`` seconds of process CPU time
(``time.process_time``, so a busy shared machine does not shorten the run), then reports
the negative log-likelihood of the 10 000 held-out test images in nats per image (and
bits per dimension, ``nats / (784 ln 2)``), and writes a PNG grid of 16 samples.
The script skips (exit 0, no rows) when the data files are absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from torchvision.utils import save_image

from pygen.distributions import MADE, PixelCNNBernoulliDistribution

FILES = {
    "train": "train-images-idx3-ubyte.gz",
    "test": "t10k-images-idx3-ubyte.gz",
}


def read_idx_images(path: Path) -> torch.Tensor:
    """Read a gzipped IDX3 image file into a ``uint8`` tensor ``[N, 1, H, W]``."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    magic, count, height, width = (int.from_bytes(data[k : k + 4], "big") for k in (0, 4, 8, 12))
    if magic != 2051:
        raise ValueError(f"{path}: expected IDX3 magic number 2051, found {magic}")
    pixels = torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8)
    return pixels.reshape(count, 1, height, width)


def binarize(images: torch.Tensor) -> torch.Tensor:
    """Deterministic binarization: ``pixel / 255 > 0.5``."""
    return (images.float() / 255.0 > 0.5).float()


@torch.no_grad()
def held_out_nll(model: torch.nn.Module, data: torch.Tensor, batch_size: int = 500) -> float:
    """Mean negative log-likelihood in nats per image."""
    model.eval()
    total = 0.0
    for start in range(0, len(data), batch_size):
        total += -model.log_prob(data[start : start + batch_size]).sum().item()
    model.train()
    return total / len(data)


def train_for(
    model: torch.nn.Module,
    data: torch.Tensor,
    *,
    budget: float,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple[int, float, float]:
    """Adam on shuffled minibatches until ``budget`` CPU seconds; return steps, epochs, time."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    start = time.process_time()
    steps = 0
    order = torch.randperm(len(data), generator=generator)
    position = 0
    while time.process_time() - start < budget:
        if position + batch_size > len(data):
            order = torch.randperm(len(data), generator=generator)
            position = 0
        batch = data[order[position : position + batch_size]]
        position += batch_size
        optimizer.zero_grad()
        loss = -model.log_prob(batch).mean()
        loss.backward()
        optimizer.step()
        steps += 1
        if steps % 100 == 0:
            print(f"  step {steps}: train NLL {loss.item():.1f} nats", flush=True)
    return steps, steps * batch_size / len(data), time.process_time() - start


def main(argv: list[str] | None = None) -> list[dict]:
    """Train both models; print a table; optionally write JSON rows.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).

    Returns:
        The result rows (empty when the data set is absent).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=str, default=None, help="write result rows here")
    parser.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--out-dir", type=Path, default=Path(tempfile.gettempdir()) / "pygen-bench")
    parser.add_argument("--budget", type=float, default=480.0, help="CPU seconds per model")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--models", nargs="+", default=["pixelcnn", "made"], choices=["pixelcnn", "made"]
    )
    parser.add_argument("--test-size", type=int, default=10000, help="held-out images scored")
    parser.add_argument("--hidden-channels", type=int, default=32, help="PixelCNN width")
    parser.add_argument("--num-layers", type=int, default=5, help="PixelCNN depth")
    args = parser.parse_args(argv)
    paths = {name: args.data_dir / file for name, file in FILES.items()}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        print(f"skipped: Fashion-MNIST files not found ({', '.join(missing)}); "
              "install Debian's dataset-fashion-mnist or pass --data-dir")  # fmt: skip
        if args.json:
            Path(args.json).write_text("[]")
        return []
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train = binarize(read_idx_images(paths["train"]))
    test = binarize(read_idx_images(paths["test"]))[: args.test_size]
    args.out_dir.mkdir(parents=True, exist_ok=True)

    results = []
    table = []
    for name in args.models:
        if name == "pixelcnn":
            model = PixelCNNBernoulliDistribution(
                [1, 28, 28], hidden_channels=args.hidden_channels, num_layers=args.num_layers
            )
            config = (
                f"PixelCNNBernoulliDistribution(hidden_channels={args.hidden_channels}, "
                f"num_layers={args.num_layers}, kernel_size=5), Adam lr 1e-3, batch 32"
            )
            batch_size, lr = 32, 1e-3
        else:
            model = MADE([1, 28, 28], hidden_sizes=[500], num_masks=1)
            config = "MADE(hidden_sizes=[500], one natural order), Adam lr 1e-3, batch 100"
            batch_size, lr = 100, 1e-3
        print(f"training {config} for {args.budget:.0f} CPU seconds", flush=True)
        steps, epochs, cpu = train_for(
            model, train, budget=args.budget, batch_size=batch_size, lr=lr, seed=0
        )
        nll = held_out_nll(model, test)
        bits = nll / (784 * math.log(2))
        png = args.out_dir / f"fashion_mnist_{name}_samples.png"
        samples = model.sample((16,), generator=torch.Generator().manual_seed(0))
        save_image(samples, png, nrow=4)
        detail = (
            f"{config}; {steps} steps = {epochs:.2f} epochs in {cpu:.0f} CPU s "
            f"({args.threads} threads); binarized by threshold 0.5; "
            f"{len(test)} test images; samples: {png}"
        )
        table.append((name, steps, epochs, cpu, nll, bits, png))
        results += [
            {"benchmark": f"fashion_mnist_{name}", "metric": "test_nll", "value": nll,
             "unit": "nats/image", "detail": detail},
            {"benchmark": f"fashion_mnist_{name}", "metric": "test_bits_per_dim", "value": bits,
             "unit": "bits/dim", "detail": detail},
        ]  # fmt: skip
    header = f"{'model':<10}{'steps':>8}{'epochs':>8}{'CPU s':>8}{'test NLL':>12}{'bits/dim':>10}"
    print(f"{header}  samples")
    for name, steps, epochs, cpu, nll, bits, png in table:
        print(f"{name:<10}{steps:>8}{epochs:>8.2f}{cpu:>8.0f}{nll:>12.2f}{bits:>10.4f}  {png}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

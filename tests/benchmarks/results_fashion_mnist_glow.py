"""Train a small Glow on Fashion-MNIST within a CPU-time budget; report held-out bits/dim.

Run by hand or by ``nox -s results``::

    python tests/benchmarks/results_fashion_mnist_glow.py [--budget 900] [--json PATH]

Data: the IDX files of Debian's ``dataset-fashion-mnist`` package in
``/usr/share/datasets/fashion-mnist`` (``--data-dir``), parsed directly (no download),
as 8-bit levels ``pixel / 255``. The model is ``Dequantized(Glow([1, 28, 28], ...),
UniformDequantization(256))``, trained on the 60 000 training images with Adam on its
one-sample ELBO (``DequantizedObjective``) for ``--budget`` seconds of process CPU time
(``time.process_time``, so a busy shared machine does not shorten the run). It reports
the uniform-dequantization bound on the 10 000 held-out test images: ``elbo`` in nats
per image and ``elbo_bits_per_dim = -elbo / (784 ln 2)``, an UPPER bound on the discrete
data's bits per dimension (a lower bound on its likelihood), the figure flow papers
report; and writes a PNG grid of 16 samples. Skips (exit 0, no rows) without the data.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from torchvision.utils import save_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_fashion_mnist_likelihood import FILES, read_idx_images

from pygen.distributions import (
    Dequantized,
    DequantizedObjective,
    Glow,
    UniformDequantization,
)


@torch.no_grad()
def held_out_elbo(model: Dequantized, data: torch.Tensor, batch_size: int = 500) -> float:
    """Mean uniform-dequantization ELBO in nats per image (fixed noise seed)."""
    model.eval()
    generator = torch.Generator().manual_seed(1)
    total = 0.0
    for start in range(0, len(data), batch_size):
        total += model.elbo(data[start : start + batch_size], generator=generator).sum().item()
    model.train()
    return total / len(data)


def train_for(
    model: Dequantized, data: torch.Tensor, *, budget: float, batch_size: int, lr: float
) -> tuple[int, float, float]:
    """Adam on the ELBO until ``budget`` CPU seconds; return steps, epochs, CPU time."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    objective = DequantizedObjective()
    generator = torch.Generator().manual_seed(0)
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
        elbo, _ = objective(model, (batch,))
        loss = -elbo.mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 50.0)
        optimizer.step()
        steps += 1
        if steps % 100 == 0:
            bits = loss.item() / (784 * math.log(2))
            print(f"  step {steps}: train elbo_bits_per_dim {bits:.3f}", flush=True)
    return steps, steps * batch_size / len(data), time.process_time() - start


def main(argv: list[str] | None = None) -> list[dict]:
    """Train, print one line, optionally write JSON rows.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).

    Returns:
        The result rows (empty when the data set is absent).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=str, default=None, help="write result rows here")
    parser.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--out-dir", type=Path, default=Path(tempfile.gettempdir()) / "pygen-bench")
    parser.add_argument("--budget", type=float, default=900.0, help="CPU seconds of training")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--test-size", type=int, default=10000, help="held-out images scored")
    parser.add_argument("--num-levels", type=int, default=2)
    parser.add_argument("--num-steps", type=int, default=4, help="flow steps per level")
    parser.add_argument("--hidden-channels", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--models", nargs="*", default=None, help="ignored (shared posargs)")
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
    train = read_idx_images(paths["train"]).float() / 255
    test = (read_idx_images(paths["test"]).float() / 255)[: args.test_size]
    args.out_dir.mkdir(parents=True, exist_ok=True)

    glow = Glow(
        [1, 28, 28],
        num_levels=args.num_levels,
        num_steps=args.num_steps,
        hidden_channels=args.hidden_channels,
    )
    model = Dequantized(glow, UniformDequantization(256))
    parameters = sum(p.numel() for p in model.parameters())
    config = (
        f"Glow(num_levels={args.num_levels}, num_steps={args.num_steps}, "
        f"hidden_channels={args.hidden_channels}; {parameters} parameters), uniform "
        f"dequantization of 256 levels, Adam lr {args.lr}, batch {args.batch_size}"
    )
    print(f"training {config} for {args.budget:.0f} CPU seconds", flush=True)
    wall = time.perf_counter()
    steps, epochs, cpu = train_for(
        model, train, budget=args.budget, batch_size=args.batch_size, lr=args.lr
    )
    elbo = held_out_elbo(model, test)
    wall = time.perf_counter() - wall
    bits = -elbo / (784 * math.log(2))
    png = args.out_dir / "fashion_mnist_glow_samples.png"
    with torch.no_grad():
        samples = model.sample((16,), generator=torch.Generator().manual_seed(0), temperature=0.7)
    save_image(samples, png, nrow=4)
    detail = (
        f"{config}; {steps} steps = {epochs:.2f} epochs in {cpu:.0f} CPU s "
        f"({args.threads} threads, {wall:.0f} s wall with evaluation); {len(test)} test "
        f"images; a bound: uniform dequantization ELBO, upper bound on bits/dim; "
        f"samples (temperature 0.7): {png}"
    )
    print(f"glow: {steps} steps, {epochs:.2f} epochs, {cpu:.0f} CPU s: test elbo {elbo:.1f} "
          f"nats/image, elbo_bits_per_dim {bits:.4f}  ({png})")  # fmt: skip
    results = [
        {"benchmark": "fashion_mnist_glow", "metric": "test_elbo", "value": elbo,
         "unit": "nats/image", "detail": detail},
        {"benchmark": "fashion_mnist_glow", "metric": "test_elbo_bits_per_dim", "value": bits,
         "unit": "bits/dim (upper bound)", "detail": detail},
    ]  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

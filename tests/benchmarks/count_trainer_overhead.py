"""Instructions per training step of pygen's LayerTrainer against the hand loop, counted.

Wall-clock ratios on a shared machine move by several percent from run to run; an
instruction count does not. This script runs the same steps as
``bench_trainer_overhead.py`` (its models, data, hand loop and trainer call) under
valgrind's callgrind, which counts the instructions each segment of one process
executes (a dump at every ``os.getppid()``, ``--dump-before=getppid``). Each method trains
once on 10 and once on 10 + ``--steps`` batches; the difference over ``--steps`` is its
cost per step, without the set-up both runs share. Rows: the hand loop, the hand loop
that also keeps and reads pygen's per-batch metrics (``hand_loop_metrics``), pygen, and
pygen without the accuracy metric.

Instructions are a proxy for time, not time: an interpreted bytecode and a vectorised
multiply-add count alike. Needs ``valgrind`` (``apt-get install -y valgrind``); about
four minutes for the MLP on a quiet 2-core machine (seven under load).

Usage::

    python tests/benchmarks/count_trainer_overhead.py [--model mlp|tiny] [--steps 50]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import bench_trainer_overhead as bench  # the timed bench's own parts

BATCH = 32
WARM_STEPS = 10


class TinyLayer(nn.Module):
    """A 10-class Categorical from one 10-vector: a step that is almost all overhead."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(10))

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.logits.expand(len(x), 10))


MODELS = {"mlp": bench.MLP, "tiny": TinyLayer}


def pygen_without_accuracy(model: nn.Module, data: Any, batch_size: int) -> float:
    return bench.time_pygen(
        model, data, batch_size, objective=lambda m, batch: m(batch[0]).log_prob(batch[1])
    )


METHODS = {
    "hand_loop": bench.time_hand_loop,
    "hand_loop_metrics": bench.time_hand_loop_metrics,
    "pygen": bench.time_pygen,
    "pygen_no_accuracy": pygen_without_accuracy,
}


def child(model_name: str, steps: int) -> None:
    """Under callgrind: warm every method, then each method on both sizes."""
    torch.set_num_threads(1)
    model = MODELS[model_name]
    small = bench.make_data(WARM_STEPS * BATCH)
    large = bench.make_data((WARM_STEPS + steps) * BATCH)
    for method in METHODS.values():
        method(model(), small, BATCH)
    os.getppid()  # the dump marks
    for method in METHODS.values():
        for data in (small, large):
            torch.manual_seed(0)
            method(model(), data, BATCH)
            os.getppid()


def totals(prefix: str) -> list[int]:
    """The instruction total of each dump, in dump order."""
    counts = []
    paths = [path for path in glob.glob(prefix + ".*") if path.rsplit(".", 1)[1].isdigit()]
    for path in sorted(paths, key=lambda path: int(path.rsplit(".", 1)[1])):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(("summary:", "totals:")):
                    counts.append(int(line.split()[1]))
                    break
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.model, args.steps)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("count_trainer_overhead: needs valgrind (apt-get install -y valgrind)")
        return 2
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "callgrind")
        command = [
            valgrind,
            "--tool=callgrind",
            "--dump-before=getppid",
            f"--callgrind-out-file={prefix}",
            sys.executable,
            __file__,
            "--child",
            f"--model={args.model}",
            f"--steps={args.steps}",
        ]
        environment = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=environment, capture_output=True)
        counts = totals(prefix)[1:]  # the first dump is the start-up and warm-up
    per_step = {
        name: (counts[2 * index + 1] - counts[2 * index]) / args.steps
        for index, name in enumerate(METHODS)
    }
    hand = per_step["hand_loop"]
    print(f"{args.model}: instructions per step over {args.steps} steps, batch {BATCH}")
    for name, count in per_step.items():
        print(f"{name:<20} {count:>12,.0f} {count / hand:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

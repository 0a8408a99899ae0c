"""Epoch time of pygen's LayerTrainer against a hand-written loop and PyTorch Lightning.

All three do the same work per step on the same in-memory MNIST-shaped random data
(1x28x28 images, 10 classes): forward to a Categorical, minus the mean log-likelihood,
backward, Adam step (lr 1e-3), and read the batch loss as a Python float. The hand loop
batches by indexing the tensors with a permutation (the fastest plain PyTorch); Lightning
gets the usual ``DataLoader(TensorDataset, shuffle=True, drop_last=True)``; a second hand
loop with that DataLoader shows what item-by-item collation costs. pygen's trainer also
computes per-batch accuracy (its metrics); the others do not, except ``hand_loop_metrics``,
a hand loop that keeps and reads the same per-batch log-likelihood and accuracy as pygen
(so pygen against it is the trainer's own cost). Two more rows show what pygen's EMA
weights (``ema_decay=0.999``) and gradient accumulation over 4 batches cost.

Each framework's epoch is timed from its epoch-start hook to its epoch-end hook (the
hand loop: around its epoch loop), one epoch per run. Each round runs every method once,
in an order shuffled per round, and each method's median epoch is reported, with its
ratio to the hand loop's; beside it, the median of the per-round ratios to the hand loop
and that median's 95% bootstrap interval (the rounds' ratios cancel slow drifts of a
shared machine; on a 2-core cloud VM, two identical hand loops differ by up to 2-3% over
30 rounds). Models: a small MLP (784-128-10) and the original pygen's
ClassifierNet (conv 32, conv 64, max-pool, 128, 10), defined inline because pygen-train
cannot depend on pygen-layers.

Usage::

    python tests/benchmarks/bench_trainer_overhead.py [--examples 10000] [--repeats 30]
        [--models mlp,convnet] [--convnet-examples 2000] [--threads 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pygen.train import Callback, LayerTrainer


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.net(x))


class ClassifierNet(nn.Module):
    """The original pygen ClassifierNet architecture for 1x28x28 inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))
        return torch.distributions.Categorical(logits=x)


MODELS: dict[str, Callable[[], nn.Module]] = {"mlp": MLP, "convnet": ClassifierNet}


def make_data(examples: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(examples, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (examples,), generator=generator)
    return TensorDataset(images, labels)


def time_hand_loop(
    model: nn.Module, data: TensorDataset, batch_size: int, read_every: int | None = None
) -> float:
    """The fastest plain PyTorch epoch: index the tensors with a permutation, step, read.

    ``index_select`` rather than ``images[index]``: a third of the time for a batch of 32
    images, and what pygen's batching uses for contiguous CPU tensors.

    With ``read_every``, it also does pygen's metric work: it keeps each batch's
    per-example log-likelihood and correctness detached on the device and reads the
    per-batch means every ``read_every`` steps, as pygen's trainer does.
    """
    images, labels = data.tensors
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1)
    model.train()
    start = time.perf_counter()
    order = torch.randperm(len(images), generator=generator)
    total = 0.0
    kept: list[tuple[torch.Tensor, torch.Tensor]] = []
    means: list[list[float]] = []

    def read_kept() -> None:  # per-batch means of the kept batches, one transfer
        values, correct = zip(*kept, strict=True)
        batch_means = [torch.stack(values).mean(1), torch.stack(correct).double().mean(1)]
        means.extend(torch.stack(batch_means, dim=1).tolist())
        kept.clear()

    for begin in range(0, len(images) - batch_size + 1, batch_size):
        index = order[begin : begin + batch_size]
        x, y = images.index_select(0, index), labels.index_select(0, index)
        optimizer.zero_grad(set_to_none=True)
        output = model(x)
        value = output.log_prob(y)
        loss = -value.mean()
        loss.backward()
        optimizer.step()
        total += loss.item()
        if read_every is not None:
            kept.append((value.detach(), output.logits.argmax(-1) == y))
            if len(kept) == read_every:
                read_kept()
    if kept:  # the epoch's last batches, as pygen reads them at the epoch end
        read_kept()
    return time.perf_counter() - start


def time_hand_loop_metrics(model: nn.Module, data: TensorDataset, batch_size: int) -> float:
    """The hand loop keeping and reading pygen's per-batch metrics (its default every 50).

    Against this row pygen's ratio is the cost of the trainer itself, not of the metrics
    it computes.
    """
    return time_hand_loop(model, data, batch_size, read_every=50)


def time_hand_loop_dataloader(model: nn.Module, data: TensorDataset, batch_size: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True)
    model.train()
    start = time.perf_counter()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = -model(x).log_prob(y).mean()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return time.perf_counter() - start


class _EpochTimer(Callback):
    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def on_epoch_start(self, trainer: Any) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, trainer: Any) -> None:
        self.seconds = time.perf_counter() - self._start


def time_pygen(model: nn.Module, data: TensorDataset, batch_size: int, **options: Any) -> float:
    timer = _EpochTimer()
    LayerTrainer(
        model, data, batch_size, 1, callbacks=[timer], progress=False, seed=1, **options
    ).train()
    return timer.seconds


def time_pygen_ema(model: nn.Module, data: TensorDataset, batch_size: int) -> float:
    """pygen with an EMA of the weights updated after every step."""
    return time_pygen(model, data, batch_size, ema_decay=0.999)


def time_pygen_accumulate(model: nn.Module, data: TensorDataset, batch_size: int) -> float:
    """pygen averaging the gradients of 4 batches per optimizer step (a quarter the steps)."""
    return time_pygen(model, data, batch_size, accumulate_grad_batches=4)


def time_lightning(model: nn.Module, data: TensorDataset, batch_size: int) -> float:
    import lightning as L

    class Module(L.LightningModule):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def training_step(self, batch: Any, batch_index: int) -> torch.Tensor:
            x, y = batch
            loss = -self.inner(x).log_prob(y).mean()
            self.total = getattr(self, "total", 0.0) + loss.item()
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    class Timer(L.Callback):
        seconds = 0.0

        def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
            self._start = time.perf_counter()

        def on_train_epoch_end(self, trainer: Any, module: Any) -> None:
            Timer.seconds = time.perf_counter() - self._start

    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True)
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[Timer()],
    )
    trainer.fit(Module(model), loader)
    return Timer.seconds


METHODS: dict[str, Callable[[nn.Module, TensorDataset, int], float]] = {
    "hand_loop": time_hand_loop,
    "hand_loop_metrics": time_hand_loop_metrics,
    "pygen": time_pygen,
    "lightning": time_lightning,
    "hand_loop_dataloader": time_hand_loop_dataloader,
    "pygen_ema": time_pygen_ema,
    "pygen_accumulate_4": time_pygen_accumulate,
}


def run(model_name: str, examples: int, repeats: int, batch_size: int) -> dict[str, list[float]]:
    """Each method's epoch times, one per round; each round runs every method once."""
    data = make_data(examples)
    times: dict[str, list[float]] = {name: [] for name in METHODS}
    order = list(METHODS)
    shuffler = random.Random(0)
    for repeat in range(repeats + 1):  # the first round warms up and is discarded
        shuffler.shuffle(order)  # no method always runs first, or after the same one
        for name in order:
            torch.manual_seed(repeat)
            seconds = METHODS[name](MODELS[model_name](), data, batch_size)
            if repeat > 0:
                times[name].append(seconds)
    return times


def paired_ratio(
    times: Sequence[float], baseline: Sequence[float], draws: int = 2000
) -> tuple[float, float, float]:
    """The median of the per-round ratios ``times / baseline``, and its 95% interval.

    A round's two epochs ran a few seconds apart, so the machine's slow drifts cancel in
    their ratio. The interval is the 2.5th to 97.5th percentile of the median over
    ``draws`` bootstrap resamplings of the rounds (seeded, so a run is reproducible).
    """
    ratios = [time / base for time, base in zip(times, baseline, strict=True)]
    resampler = random.Random(1)
    medians = sorted(
        statistics.median(resampler.choices(ratios, k=len(ratios))) for _ in range(draws)
    )
    return statistics.median(ratios), medians[int(0.025 * draws)], medians[int(0.975 * draws) - 1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="MLP training examples")
    parser.add_argument("--convnet-examples", type=int, default=2_000, help="convnet examples")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=30, help="timed epochs per method")
    parser.add_argument("--models", default="mlp,convnet", help="comma-separated: mlp,convnet")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", default=None, help="write result rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    rows: list[dict[str, Any]] = []
    print(
        f"{'model':<8} {'method':<22} {'median s':>9} {'vs hand':>8} {'vs lightning':>13} "
        f"{'paired vs hand [95%]':>26}"
    )
    for model_name in args.models.split(","):
        examples = args.examples if model_name == "mlp" else args.convnet_examples
        times = run(model_name, examples, args.repeats, args.batch_size)
        medians = {name: statistics.median(values) for name, values in times.items()}
        detail = (
            f"{examples} examples 1x28x28, batch {args.batch_size}, {args.repeats} repeats "
            f"(median, interleaved in shuffled order), CPU, {args.threads} thread(s), "
            f"torch {torch.__version__}"
        )
        paired = {name: paired_ratio(values, times["hand_loop"]) for name, values in times.items()}
        for name, median in medians.items():
            ratio_hand = median / medians["hand_loop"]
            ratio_lightning = median / medians["lightning"]
            middle, low, high = paired[name]
            print(
                f"{model_name:<8} {name:<22} {median:>9.4f} {ratio_hand:>8.3f} "
                f"{ratio_lightning:>13.3f} {middle:>10.3f} [{low:.3f}, {high:.3f}]"
            )
            rows.append(
                {
                    "benchmark": f"trainer_overhead/{model_name}/{name}",
                    "metric": "epoch_time",
                    "value": median,
                    "unit": "s",
                    "detail": detail,
                }
            )
        for name in (
            "pygen",
            "hand_loop_metrics",
            "lightning",
            "hand_loop_dataloader",
            "pygen_ema",
            "pygen_accumulate_4",
        ):
            rows.append(
                {
                    "benchmark": f"trainer_overhead/{model_name}/{name}",
                    "metric": "ratio_to_hand_loop",
                    "value": medians[name] / medians["hand_loop"],
                    "unit": "x",
                    "detail": detail,
                }
            )
        middle, low, high = paired["pygen"]
        rows.append(
            {
                "benchmark": f"trainer_overhead/{model_name}/pygen",
                "metric": "paired_ratio_to_hand_loop",
                "value": middle,
                "unit": "x",
                "detail": f"median of per-round ratios, 95% interval [{low:.3f}, {high:.3f}]; "
                + detail,
            }
        )
        rows.append(
            {
                "benchmark": f"trainer_overhead/{model_name}/pygen",
                "metric": "ratio_to_hand_loop_metrics",
                "value": medians["pygen"] / medians["hand_loop_metrics"],
                "unit": "x",
                "detail": detail,
            }
        )
        rows.append(
            {
                "benchmark": f"trainer_overhead/{model_name}/pygen",
                "metric": "ratio_to_lightning",
                "value": medians["pygen"] / medians["lightning"],
                "unit": "x",
                "detail": detail,
            }
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

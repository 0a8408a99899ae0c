"""Flows: pygen MAF and NSF against zuko on the dequantized 8x8 digits; MAF sampling.

    OMP_NUM_THREADS=1 python tests/benchmarks/bench_flows.py [--json PATH] [--epochs N] [--seeds N]

Same data (64-D, uniform dequantization (x + u) / 17, logit-free, standardised), same
model size (5 transforms, MADE hidden [128, 128]; NSF 8 bins), same optimizer (Adam
1e-3, batch 64), same seeds; epoch time ratio pygen / zuko (median over the seeds) and
held-out NLL (nats, a continuous density of the dequantized data; the mean over model
seeds 0..N-1, since one seed's figure moves by several nats). Then MAF sampling, fast
vs naive.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import zuko
from sklearn.datasets import load_digits

from pygen.distributions import MAF, NSF


def data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.tensor(load_digits().data, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    x = (x + torch.rand(x.shape, generator=generator)) / 17.0
    mean, std = x[:1500].mean(0), x[:1500].std(0) + 1e-2
    x = (x - mean) / std
    return x[:1500], x[1500:]


def train(model_log_prob, params, train_x: torch.Tensor, epochs: int) -> float:
    optimizer = torch.optim.Adam(params, lr=1e-3)
    generator = torch.Generator().manual_seed(1)
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(train_x), generator=generator).split(64):
            optimizer.zero_grad()
            loss = -model_log_prob(train_x[idx]).mean()
            loss.backward()
            optimizer.step()
    return (time.perf_counter() - start) / epochs


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=str, default=None, help="write result rows here")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="model seeds 0..N-1 to average")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    train_x, test_x = data()
    rows = []
    seeds = list(range(args.seeds))
    detail = (f"digits 64-D dequantized, {args.epochs} epochs, 5 transforms [128,128], "
              f"1 thread, mean over model seeds {seeds}")  # fmt: skip
    for name in ("MAF", "NSF"):
        ratios, nll_ours, nll_theirs = [], [], []
        for seed in seeds:
            torch.manual_seed(seed)
            if name == "MAF":
                ours = MAF(64, 5, [128, 128])
                theirs = zuko.flows.MAF(64, transforms=5, hidden_features=[128, 128])
            else:
                ours = NSF(64, 5, [128, 128], bins=8)
                theirs = zuko.flows.NSF(64, transforms=5, bins=8, hidden_features=[128, 128])
            t_ours = train(ours.log_prob, ours.parameters(), train_x, args.epochs)
            t_theirs = train(lambda x, f=theirs: f().log_prob(x), theirs.parameters(), train_x,
                             args.epochs)  # fmt: skip
            with torch.no_grad():
                nll_ours.append(-ours.log_prob(test_x).mean().item())
                nll_theirs.append(-theirs().log_prob(test_x).mean().item())
            ratios.append(t_ours / t_theirs)
        per_seed = "per seed pygen/zuko: " + ", ".join(
            f"{a:.2f}/{b:.2f}" for a, b in zip(nll_ours, nll_theirs, strict=True)
        )
        rows += [
            {"benchmark": f"flows {name}", "metric": "epoch time pygen / zuko",
             "value": statistics.median(ratios), "unit": "x", "detail": detail},
            {"benchmark": f"flows {name}", "metric": "held-out NLL pygen",
             "value": statistics.fmean(nll_ours), "unit": "nats", "detail": per_seed},
            {"benchmark": f"flows {name}", "metric": "held-out NLL zuko",
             "value": statistics.fmean(nll_theirs), "unit": "nats", "detail": per_seed},
        ]  # fmt: skip
    flow = MAF(64, 5, [128, 128])
    times = {}
    for method in ("fast", "naive"):
        flow.set_sampling_method(method)
        start = time.perf_counter()
        flow.sample((256,), generator=torch.Generator().manual_seed(0))
        times[method] = time.perf_counter() - start
    rows.append({"benchmark": "flows MAF sampling", "metric": "naive / fast time",
                 "value": times["naive"] / times["fast"], "unit": "x",
                 "detail": "256 samples, 64-D, 5 transforms [128,128], 1 thread"})  # fmt: skip
    for row in rows:
        print(f"{row['benchmark']:<22} {row['metric']:<26} {row['value']:.4g} {row['unit']}")
        if row["detail"].startswith("per seed") and row["metric"].endswith("zuko"):
            print(f"{'':<22} {row['detail']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()

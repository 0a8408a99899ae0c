"""Speed of PixelCNN completion on the fast path against the naive reference.

Run by hand or by ``nox -s bench``::

    python tests/benchmarks/bench_pixelcnn_completion.py [--json PATH] [--naive-rows N]

Both methods complete the bottom half of 16 images of ``[1, 28, 28]`` (the top 14 rows
observed) under the default ``PixelCNNBernoulliDistribution`` (64 channels, 8 layers,
kernel 5, random weights), in the same process with the same generator seed, and the
script checks that they return the same images. The images are the model's own samples.
``--naive-rows N`` times the naive method on the first ``N`` unobserved rows only (the
rows after them marked observed) and extrapolates linearly: its cost is one full pass
per unobserved sub-pixel, so each row costs the same. The default times it on all of them.

The fast timings are the best of ``--repeats`` calls after one untimed warm-up call.
Times are CPU seconds of this process (``time.process_time``) on one torch thread, so
other programs sharing the cores barely move the ratio; wall-clock seconds are reported
beside them. For context the fast *unconditional* sampler (``sample``) of the same batch
is timed too, and its ratio in this run is reported beside the completion's: its naive
time is the naive completion's per-pass time times the ``C * H * W`` passes of a full
sample (every naive pass costs the same). The two ratios are not expected to be equal:
a completion skips half the naive passes but not half the fast work, since the vertical
stack still runs over the observed rows that the drawn ones read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from pygen.distributions import PixelCNNBernoulliDistribution


def main(argv: list[str] | None = None) -> list[dict]:
    """Time both completion methods; print a table; optionally write JSON rows.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).

    Returns:
        The result rows.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=str, default=None, help="write result rows here")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=28, help="image height and width")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=5, help="fast-method repeats (best)")
    parser.add_argument(
        "--naive-rows", type=int, default=None, help="time the naive method on N rows only"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    size, top = args.size, args.size // 2
    model = PixelCNNBernoulliDistribution([1, size, size])
    images = model.sample((args.batch,), generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(1, size, size, dtype=torch.bool)
    mask[:, :top] = True
    shape = f"[1, {size}, {size}] x {args.batch}, bottom {size - top} rows completed"

    def timed(run):  # (result, CPU seconds, wall seconds)
        cpu, wall = time.process_time(), time.perf_counter()
        result = run()
        return result, time.process_time() - cpu, time.perf_counter() - wall

    # One untimed call of each first: the first call of a shape pays one-time costs
    # (oneDNN builds a convolution kernel per input shape), which are not the method's.
    model.complete(images, mask, generator=torch.Generator().manual_seed(0))
    model.sample((args.batch,), generator=torch.Generator().manual_seed(0))
    fast_runs = [
        timed(lambda: model.complete(images, mask, generator=torch.Generator().manual_seed(0)))
        for _ in range(args.repeats)
    ]
    fast = fast_runs[0][0]
    fast_time = min(run[1] for run in fast_runs)
    fast_wall = min(run[2] for run in fast_runs)
    sample_time = min(
        timed(lambda: model.sample((args.batch,), generator=torch.Generator().manual_seed(0)))[1]
        for _ in range(args.repeats)
    )

    unobserved = size - top
    rows_timed = unobserved if args.naive_rows is None else min(args.naive_rows, unobserved)
    naive_mask = mask.clone()
    naive_mask[:, top + rows_timed :] = True  # the rows not timed count as observed
    naive, naive_cpu, naive_wall = timed(
        lambda: model.complete(
            images, naive_mask, method="naive", generator=torch.Generator().manual_seed(0)
        )
    )
    naive_time = naive_cpu * unobserved / rows_timed
    naive_wall *= unobserved / rows_timed
    done = slice(0, top + rows_timed)
    identical = bool(torch.equal(fast[:, :, done], naive[:, :, done]))
    kept = bool(torch.equal(fast[:, :, :top], images[:, :, :top]))
    if rows_timed == unobserved:
        how = "naive timed on every completed row"
    else:
        how = f"naive timed on {rows_timed} of {unobserved} completed rows, extrapolated"
    speedup = naive_time / fast_time
    subpixels = size * size  # one channel
    sample_speedup = naive_time * subpixels / (unobserved * size) / sample_time
    detail = (
        f"{shape}, default network (64 ch, 8 layers, k=5), {args.threads} thread(s), "
        f"{how}; CPU seconds; identical images: {identical}; observed rows kept: {kept}"
    )
    results = [
        {"benchmark": "pixelcnn_completion", "metric": "fast_seconds", "value": fast_time,
         "unit": "s", "detail": detail},
        {"benchmark": "pixelcnn_completion", "metric": "naive_seconds", "value": naive_time,
         "unit": "s", "detail": detail},
        {"benchmark": "pixelcnn_completion", "metric": "speedup", "value": speedup,
         "unit": "x", "detail": detail},
        {"benchmark": "pixelcnn_completion", "metric": "fast_sample_seconds",
         "value": sample_time, "unit": "s", "detail": "sample() of the same batch, fast"},
        {"benchmark": "pixelcnn_completion", "metric": "sample_speedup_same_run",
         "value": sample_speedup, "unit": "x",
         "detail": "sample() fast vs naive in this run, naive extrapolated per pass"},
        {"benchmark": "pixelcnn_completion", "metric": "fast_complete_over_sample",
         "value": fast_time / sample_time, "unit": "ratio",
         "detail": "fast completion time / fast sample time (naive: 0.5)"},
        {"benchmark": "pixelcnn_completion", "metric": "wall_speedup",
         "value": naive_wall / fast_wall, "unit": "x", "detail": "wall-clock seconds"},
        {"benchmark": "pixelcnn_completion", "metric": "identical_images",
         "value": float(identical and kept), "unit": "bool", "detail": detail},
    ]  # fmt: skip
    print(f"PixelCNN completion, {detail}")
    print(f"{'method':<22}{'CPU seconds':>12}{'wall seconds':>14}")
    print(f"{'fast complete':<22}{fast_time:>12.2f}{fast_wall:>14.2f}")
    print(f"{'naive complete':<22}{naive_time:>12.2f}{naive_wall:>14.2f}")
    print(f"{'fast sample (context)':<22}{sample_time:>12.2f}")
    print(f"speed-up: {speedup:.1f}x (CPU), {naive_wall / fast_wall:.1f}x (wall)")
    print(
        f"unconditional sampler in this run: {sample_speedup:.1f}x (CPU, naive extrapolated "
        f"per pass); fast completion / fast sample = {fast_time / sample_time:.3f} (naive: 0.5)"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

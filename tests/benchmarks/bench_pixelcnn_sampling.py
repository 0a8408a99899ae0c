"""Speed of the fast PixelCNN sampler against the naive one-pass-per-sub-pixel sampler.

Run by hand or by ``nox -s bench``::

    python tests/benchmarks/bench_pixelcnn_sampling.py [--json PATH] [--naive-rows N]

Both samplers draw 16 images of ``[1, 28, 28]`` from the default
``PixelCNNBernoulliDistribution`` (64 channels, 8 layers, kernel 5, random weights) in
the same process, with the same generator seed, and the script checks that they return
the same images. ``--naive-rows N`` times the naive sampler on the first ``N`` rows only
and extrapolates linearly (each row costs the same number of full passes); the default
runs it on the whole image.

The fast time is the best of ``--repeats`` calls after one untimed warm-up call.
Times are CPU seconds of this process (``time.process_time``) on one torch thread, as in
``bench_pixelcnn_completion.py``, so other programs sharing the cores barely move the
ratio; wall-clock seconds are reported beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from pygen.distributions import PixelCNNBernoulliDistribution


def main(argv: list[str] | None = None) -> list[dict]:
    """Time both samplers; print a table; optionally write JSON rows.

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
    parser.add_argument("--repeats", type=int, default=5, help="fast-sampler repeats (best)")
    parser.add_argument(
        "--naive-rows", type=int, default=None, help="time the naive sampler on N rows only"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = PixelCNNBernoulliDistribution([1, args.size, args.size])
    shape = f"[1, {args.size}, {args.size}] x {args.batch}"

    # One untimed call first: the first call of a shape pays one-time costs (oneDNN
    # builds a convolution kernel per input shape), which are not the sampler's.
    model.sample((args.batch,), generator=torch.Generator().manual_seed(0))
    fast_cpu, fast_wall = [], []
    for _ in range(args.repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        fast = model.sample((args.batch,), generator=torch.Generator().manual_seed(0))
        fast_cpu.append(time.process_time() - cpu)
        fast_wall.append(time.perf_counter() - wall)
    fast_time, fast_wall_time = min(fast_cpu), min(fast_wall)

    rows_timed = args.size if args.naive_rows is None else min(args.naive_rows, args.size)
    cpu, start = time.process_time(), time.perf_counter()
    if rows_timed == args.size:
        naive = model.sample(
            (args.batch,), method="naive", generator=torch.Generator().manual_seed(0)
        )
        identical = bool(torch.equal(fast, naive))
        naive_time = time.process_time() - cpu
        naive_wall_time = time.perf_counter() - start
        how = "naive timed on the full image"
    else:
        # The same uniforms as sample() draws; the loop is naive_sample's, cut after N rows.
        uniforms = torch.rand(
            (args.batch, 1, args.size, args.size, 1), generator=torch.Generator().manual_seed(0)
        )
        x = torch.zeros(args.batch, 1, args.size, args.size)
        model.eval()
        with torch.no_grad():
            for i in range(rows_timed):
                for j in range(args.size):
                    params = model.network(model._to_input(x))[:, 0, :, i, j]
                    x[:, 0, i, j] = model._draw(params, uniforms[:, 0, i, j])
        naive_time = (time.process_time() - cpu) * args.size / rows_timed
        naive_wall_time = (time.perf_counter() - start) * args.size / rows_timed
        identical = bool(torch.equal(fast[:, :, :rows_timed], x[:, :, :rows_timed]))
        how = f"naive timed on {rows_timed} of {args.size} rows, extrapolated"
    speedup = naive_time / fast_time
    detail = (
        f"{shape}, default network (64 ch, 8 layers, k=5), {args.threads} thread(s), "
        f"{how}; CPU seconds; identical images: {identical}"
    )
    results = [
        {"benchmark": "pixelcnn_sampling", "metric": "fast_seconds", "value": fast_time,
         "unit": "s", "detail": detail},
        {"benchmark": "pixelcnn_sampling", "metric": "naive_seconds", "value": naive_time,
         "unit": "s", "detail": detail},
        {"benchmark": "pixelcnn_sampling", "metric": "speedup", "value": speedup,
         "unit": "x", "detail": detail},
        {"benchmark": "pixelcnn_sampling", "metric": "wall_speedup",
         "value": naive_wall_time / fast_wall_time, "unit": "x", "detail": "wall-clock seconds"},
        {"benchmark": "pixelcnn_sampling", "metric": "identical_images", "value": float(identical),
         "unit": "bool", "detail": detail},
    ]  # fmt: skip
    print(f"PixelCNN sampling, {detail}")
    print(f"{'sampler':<10}{'CPU seconds':>12}{'wall seconds':>14}")
    print(f"{'fast':<10}{fast_time:>12.2f}{fast_wall_time:>14.2f}")
    print(f"{'naive':<10}{naive_time:>12.2f}{naive_wall_time:>14.2f}")
    speedup_wall = naive_wall_time / fast_wall_time
    print(f"speed-up: {speedup:.1f}x (CPU), {speedup_wall:.1f}x (wall) (goal >= 10x)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

"""The programs in examples/ run end to end, and examples/datasets.py finds its data.

Every example runs with ``--dummy_run --max_epoch 1 --offline`` (one batch) on data made
here, in the exact file formats torchvision's real dataset classes read (IDX files for
MNIST and Fashion-MNIST, the python-pickle batches of CIFAR-10), so the real loaders are
exercised; the 8x8 digits come with scikit-learn (in the test dependency group). All
runs share one subprocess started with ``sys.executable``: importing torch, torchvision
and matplotlib costs several seconds of CPU per interpreter, so one interpreter runs the
examples one after another with ``runpy`` (each as ``__main__``, with its own
``sys.argv``) and reports each one's outcome.

torchvision checks CIFAR-10's files against the real files' MD5 sums; the driver replaces
those sums with the fake files' sums, which is the only change made to torchvision.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

MNIST_TRAIN, MNIST_TEST = 360, 40  # 1/12 of 360 = 30 validation images >= the 25 shown
CIFAR_BATCH, CIFAR_TEST = 60, 40  # 5 batches of 60: 300 train, 30 validation


def load_datasets_module() -> ModuleType:
    """examples/datasets.py, imported from its file under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        "pygen_examples_datasets", EXAMPLES / "datasets.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


datasets = load_datasets_module()


# --------------------------------------------------------------------- fake data files


def write_idx(path: Path, array: np.ndarray, *, compress: bool = False) -> None:
    """Write a uint8 array in the IDX format (big-endian header), optionally gzipped."""
    assert array.dtype == np.uint8
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    payload = header + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as stream:
            stream.write(payload)
    else:
        path.write_bytes(payload)


def make_idx_dataset(folder: Path, seed: int, *, compress: bool = False) -> dict[str, np.ndarray]:
    """The four MNIST-format IDX files of random 28x28 images; returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (MNIST_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, MNIST_TRAIN, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (MNIST_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, MNIST_TEST, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / name, array, compress=compress)
    return arrays


def make_cifar10(root: Path, seed: int) -> dict[str, tuple[str, np.ndarray, list[int]]]:
    """CIFAR-10's python batches and meta file; returns name -> (md5, data, labels)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    files: dict[str, tuple[str, np.ndarray, list[int]]] = {}
    names = [f"data_batch_{index}" for index in range(1, 6)] + ["test_batch"]
    for name in names:
        count = CIFAR_TEST if name == "test_batch" else CIFAR_BATCH
        data = rng.integers(0, 256, (count, 3 * 32 * 32), dtype=np.uint8)
        labels = [int(label) for label in rng.integers(0, 10, count)]
        raw = pickle.dumps({"batch_label": name, "data": data, "labels": labels})
        (folder / name).write_bytes(raw)
        files[name] = (hashlib.md5(raw).hexdigest(), data, labels)
    label_names = ["airplane", "automobile", "bird", "cat", "deer"]
    label_names += ["dog", "frog", "horse", "ship", "truck"]
    meta = pickle.dumps({"label_names": label_names, "num_vis": 3072})
    (folder / "batches.meta").write_bytes(meta)
    files["batches.meta"] = (hashlib.md5(meta).hexdigest(), np.empty(0), [])
    return files


def patch_cifar10_checksums(cifar10: type, files: dict) -> None:
    """Point torchvision's CIFAR10 integrity check at the fake files' MD5 sums."""
    cifar10.train_list = [[f"data_batch_{i}", files[f"data_batch_{i}"][0]] for i in range(1, 6)]
    cifar10.test_list = [["test_batch", files["test_batch"][0]]]
    cifar10.meta = {**cifar10.meta, "md5": files["batches.meta"][0]}


# --------------------------------------------------------------------- datasets module


def test_load_digits_rejects_a_bad_test_fraction() -> None:
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\); got 1.5"):
        datasets.load_digits(test_fraction=1.5)


def test_load_dataset_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"name must be one of .*'digits'.*got 'svhn'"):
        datasets.load_dataset("svhn")


def test_split_validation_rejects_sizes_that_leave_a_split_empty() -> None:
    data = torch.utils.data.TensorDataset(torch.zeros(10, 1, 2, 2), torch.zeros(10))
    for size in (0, 10):
        with pytest.raises(ValueError, match=rf"validation_size must be in \[1, 9\].*got {size}"):
            datasets.split_validation(data, size)


def test_load_digits_gives_a_fixed_split_in_the_unit_interval() -> None:
    data = datasets.load_digits()
    images, labels = data.train.tensors
    test_images, _ = data.test.tensors
    assert data.image_shape == (1, 8, 8)
    assert (len(data.train), len(data.test)) == (1438, 359)
    assert images.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert float(images.min()) == 0.0
    assert float(images.max()) == 1.0
    assert set(labels.tolist()) == set(range(10))
    assert data.classes[3] == "3"
    # 17 grey levels (0..16) scaled to [0, 1]
    assert torch.equal(torch.unique(images * 16), torch.arange(17, dtype=torch.float32))
    again = datasets.load_digits()
    assert torch.equal(again.test.tensors[0], test_images)
    assert len(data.train) + len(data.test) == 1797  # every sklearn digit, in one split


def test_binarize_thresholds_at_one_half_and_keeps_labels() -> None:
    images = torch.tensor([0.0, 0.5, 0.51, 1.0]).reshape(4, 1, 1, 1)
    labels = torch.tensor([1, 2, 3, 4])
    binary = datasets.binarize(torch.utils.data.TensorDataset(images, labels))
    assert binary.tensors[0].flatten().tolist() == [0.0, 0.0, 1.0, 1.0]
    assert torch.equal(binary.tensors[1], labels)


def test_split_validation_and_head_partition_the_examples() -> None:
    data = torch.utils.data.TensorDataset(torch.arange(20.0), torch.arange(20))
    train, validation = datasets.split_validation(data, 5, seed=3)
    assert (len(train), len(validation)) == (15, 5)
    together = torch.cat([train.tensors[1], validation.tensors[1]]).sort().values
    assert torch.equal(together, torch.arange(20))
    assert torch.equal(
        datasets.split_validation(data, 5, seed=3)[1].tensors[0], validation.tensors[0]
    )
    assert datasets.head(data, 3).tensors[1].tolist() == [0, 1, 2]
    assert len(datasets.head(data, 50)) == 20


def test_find_debian_fashion_mnist_uses_the_argument_then_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "debian"
    make_idx_dataset(folder, seed=1, compress=True)
    assert datasets.find_debian_fashion_mnist(folder) == folder
    assert datasets.find_debian_fashion_mnist(tmp_path / "missing") is None
    monkeypatch.setenv(datasets.FASHION_MNIST_FOLDER_VARIABLE, str(folder))
    assert datasets.find_debian_fashion_mnist() == folder
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    assert datasets.find_debian_fashion_mnist() is None  # all four files are needed


def test_load_fashion_mnist_offline_from_a_debian_folder(tmp_path: Path) -> None:
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    arrays = make_idx_dataset(debian, seed=2, compress=True)
    root = tmp_path / "datasets"
    data = datasets.load_fashion_mnist(root, download=False, debian_folder=debian)
    raw = root / "FashionMNIST" / "raw"
    assert sorted(path.name for path in raw.iterdir()) == sorted(datasets.IDX_FILES)
    assert str(debian) in data.source
    images, labels = data.train.tensors
    assert images.shape == (MNIST_TRAIN, 1, 28, 28)
    assert data.image_shape == (1, 28, 28)
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte"]).float() / 255
    assert torch.equal(images[:, 0], expected)
    assert labels.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    test_labels = data.test.tensors[1]
    assert test_labels.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    assert data.classes[0] == "T-shirt/top"
    assert data.classes[9] == "Ankle boot"
    # the arranged files are now found without the Debian folder
    again = datasets.load_fashion_mnist(root, download=False, debian_folder=tmp_path / "gone")
    assert torch.equal(again.train.tensors[0], images)
    assert again.source == str(raw)


def test_uncompressed_offline_files_are_symlinked(tmp_path: Path) -> None:
    source = tmp_path / "plain"
    make_idx_dataset(source, seed=3)
    raw = datasets.install_debian_fashion_mnist(tmp_path / "root", source)
    for name in datasets.IDX_FILES:
        assert (raw / name).is_symlink()
        assert (raw / name).resolve() == (source / name).resolve()
    with pytest.raises(FileNotFoundError, match="must hold train-images-idx3-ubyte"):
        datasets.install_debian_fashion_mnist(tmp_path / "other", tmp_path / "empty")


def test_a_missing_fashion_mnist_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(datasets.DatasetNotFoundError) as caught:
        datasets.load_fashion_mnist(tmp_path, download=False, debian_folder=tmp_path / "none")
    message = str(caught.value)
    assert f"Fashion-MNIST was not found in {tmp_path / 'FashionMNIST' / 'raw'}" in message
    assert "download=False" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert datasets.FASHION_MNIST_FOLDER_VARIABLE in message
    assert "--dataset digits" in message


def test_missing_mnist_and_cifar10_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(datasets.DatasetNotFoundError, match=r"MNIST was not found in .*MNIST"):
        datasets.load_mnist(tmp_path, download=False)
    with pytest.raises(datasets.DatasetNotFoundError) as caught:
        datasets.load_cifar10(tmp_path, download=False)
    assert "cifar-10-python.tar.gz" in str(caught.value)
    assert str(tmp_path / "cifar-10-batches-py") in str(caught.value)


def test_load_mnist_reads_torchvision_idx_files(tmp_path: Path) -> None:
    arrays = make_idx_dataset(tmp_path / "MNIST" / "raw", seed=4)
    data = datasets.load_dataset("mnist", tmp_path, download=False)
    assert data.name == "mnist"
    assert data.classes == tuple(str(digit) for digit in range(10))
    expected = torch.from_numpy(arrays["t10k-images-idx3-ubyte"]).float() / 255
    assert torch.equal(data.test.tensors[0][:, 0], expected)


def test_load_cifar10_reads_the_python_batches_channel_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchvision.datasets import CIFAR10

    files = make_cifar10(tmp_path, seed=5)
    for name in ("train_list", "test_list", "meta"):
        monkeypatch.setattr(CIFAR10, name, getattr(CIFAR10, name))  # restored after the test
    patch_cifar10_checksums(CIFAR10, files)
    data = datasets.load_cifar10(tmp_path, download=False)
    assert data.image_shape == (3, 32, 32)
    assert len(data.train) == 5 * CIFAR_BATCH
    _, test_data, test_labels = files["test_batch"]
    image = data.test.tensors[0][7]
    # a CIFAR row holds the red plane, then green, then blue, each row-major 32x32
    assert torch.equal(image, torch.from_numpy(test_data[7]).float().reshape(3, 32, 32) / 255)
    assert data.test.tensors[1].tolist() == test_labels
    assert data.classes[9] == "truck"


# --------------------------------------------------------------------- the examples

DRIVER = r"""
import contextlib, io, json, os, runpy, sys, time, traceback
started = time.process_time()
spec = json.loads(open(sys.argv[1]).read())
from torchvision.datasets import CIFAR10
CIFAR10.train_list = spec["cifar_train_list"]
CIFAR10.test_list = spec["cifar_test_list"]
CIFAR10.meta = {**CIFAR10.meta, "md5": spec["cifar_meta_md5"]}
sys.path.insert(0, spec["examples"])
results = {}
for run in spec["runs"]:
    os.environ.pop("PYGEN_FASHION_MNIST_FOLDER", None)
    os.environ.update(run["env"])
    sys.argv = [run["script"], *run["args"]]
    out = io.StringIO()
    run_started = time.process_time()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(run["script"], run_name="__main__")
        status = "ok"
    except SystemExit as error:
        status = "ok" if error.code in (0, None) else f"SystemExit({error.code!r})"
    except BaseException:
        status = traceback.format_exc()
    seconds = time.process_time() - run_started
    results[run["id"]] = {"status": status, "output": out.getvalue(), "cpu_seconds": seconds}
    print(f"{run['id']}: {'ok' if status == 'ok' else 'FAILED'} ({seconds:.1f} s CPU)", flush=True)
print(f"driver: {time.process_time() - started:.1f} s CPU", flush=True)
open(spec["results"], "w").write(json.dumps(results))
"""

SMALL_PIXELCNN = ["--hidden_channels", "16", "--num_layers", "2"]

# id -> (script, extra arguments, needs a fake Debian Fashion-MNIST folder)
RUNS: dict[str, tuple[str, list[str], bool]] = {
    "mnist_classifier-mnist": ("mnist_classifier.py", ["--dataset", "mnist"], False),
    "mnist_classifier-fashion_mnist": (
        "mnist_classifier.py",
        ["--dataset", "fashion_mnist"],
        True,
    ),
    "mnist_classifier-digits": ("mnist_classifier.py", ["--dataset", "digits"], False),
    "mnist_pixelcnn-mnist": ("mnist_pixelcnn.py", ["--dataset", "mnist"], False),
    "conditional_mnist-mnist": ("conditional_mnist.py", ["--dataset", "mnist"], False),
    "conditional_mnist-mnist-pixelcnn": (
        "conditional_mnist.py",
        ["--dataset", "mnist", "--model", "pixelcnn", *SMALL_PIXELCNN],
        False,
    ),
    "vae-digits": ("vae.py", ["--dataset", "digits", "--iwae_k", "100"], False),
    "vae-digits-bernoulli": (
        "vae.py",
        ["--dataset", "digits", "--latent", "bernoulli", "--iwae_k", "100"],
        False,
    ),
    "vae-fashion_mnist": (
        "vae.py",
        ["--dataset", "fashion_mnist", "--iwae_k", "20", "--iwae_examples", "16"],
        True,
    ),
    "cifar10_classifier": ("cifar10_classifier.py", [], False),
    "cifar10_pixelcnn-quantized": ("cifar10_pixelcnn.py", SMALL_PIXELCNN, False),
    "cifar10_pixelcnn-logistic_mixture": (
        "cifar10_pixelcnn.py",
        ["--distribution", "logistic_mixture", *SMALL_PIXELCNN],
        False,
    ),
}


def run_examples(root: Path) -> dict[str, dict]:
    """Make the data under ``root``, run every example and the demo's --quick mode there.

    Returns:
        run id -> ``{"status": "ok" or the error, "output": ..., "cpu_seconds": ...}``.
    """
    data = root / "datasets"
    make_idx_dataset(data / "MNIST" / "raw", seed=10)
    debian = root / "debian-fashion-mnist"
    make_idx_dataset(debian, seed=11, compress=True)
    files = make_cifar10(data, seed=12)
    runs = []
    for run_id, (script, extra, fashion) in RUNS.items():
        runs.append(
            {
                "id": run_id,
                "script": str(EXAMPLES / script),
                "args": [
                    *extra,
                    "--dummy_run",
                    "--max_epoch", "1",
                    "--offline",
                    "--threads", "1",
                    "--datasets_folder", str(data),
                    "--tb_folder", str(root / "tb" / run_id),
                    "--images_folder", str(root / "images" / run_id),
                ],
                "env": {"PYGEN_FASHION_MNIST_FOLDER": str(debian)} if fashion else {},
            }
        )  # fmt: skip
    runs.append(
        {
            "id": "missing-cifar10",
            "script": str(EXAMPLES / "cifar10_classifier.py"),
            "args": ["--offline", "--datasets_folder", str(root / "empty"), "--tb_folder",
                     str(root / "tb" / "missing")],
            "env": {},
        }
    )  # fmt: skip
    runs.append(
        {
            "id": "demo-quick",
            "script": str(EXAMPLES / "demo.py"),
            "args": ["--quick", "--output", str(root / "demo")],
            "env": {},
        }
    )
    spec = {
        "examples": str(EXAMPLES),
        "runs": runs,
        "results": str(root / "results.json"),
        "cifar_train_list": [[f"data_batch_{i}", files[f"data_batch_{i}"][0]] for i in range(1, 6)],
        "cifar_test_list": [["test_batch", files["test_batch"][0]]],
        "cifar_meta_md5": files["batches.meta"][0],
    }
    (root / "spec.json").write_text(json.dumps(spec))
    completed = subprocess.run(
        [sys.executable, "-c", DRIVER, str(root / "spec.json")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((root / "results.json").read_text())


def example_problems(root: Path, run_id: str, result: dict) -> list[str]:
    """What is wrong with one example run (nothing when it finished and wrote its files)."""
    if result["status"] != "ok":
        return [f"{run_id} failed:\n{result['status']}\n{result['output']}"]
    problems = []
    if not list((root / "tb" / run_id).glob("events.out.tfevents.*")):
        problems.append(f"{run_id}: no TensorBoard event file in {root / 'tb' / run_id}")
    if not list((root / "images" / run_id).glob("*_0000.png")):
        problems.append(f"{run_id}: no PNG image grid in {root / 'images' / run_id}")
    if (
        run_id.startswith("vae")
        and not (root / "images" / run_id / "reconstructions_0000.png").exists()
    ):
        problems.append(f"{run_id}: no reconstruction grid in {root / 'images' / run_id}")
    output = result["output"]
    if "finished in" not in output or "TensorBoard logs" not in output:
        problems.append(f"{run_id}: no final report printed:\n{output}")
    # One kind of held-out figure: an accuracy, an exact NLL, or bounds (a VAE's ELBO and
    # IWAE-k, which must never be printed as an NLL).
    kinds = [kind for kind in ("test accuracy", "test NLL", "test ELBO") if kind in output]
    if len(kinds) != 1:
        problems.append(
            f"{run_id}: expected one held-out metric (accuracy, NLL or ELBO):\n{output}"
        )
    if run_id.startswith("vae"):
        # IWAE-k validation under val_iwae_<k> in the progress line, enlarged grids
        if "val_iwae_100 " not in output:
            problems.append(f"{run_id}: no val_iwae_100 in the progress line:\n{output}")
        for stem in ("samples_large_0000.png", "reconstructions_large_0000.png"):
            if not (root / "images" / run_id / stem).exists():
                problems.append(f"{run_id}: no {stem} in {root / 'images' / run_id}")
    if "test ELBO" in output and "test IWAE-" not in output:
        problems.append(f"{run_id}: a VAE reports its IWAE-k bound beside its ELBO:\n{output}")
    return problems


# One test function runs the one driver, so that pytest-xdist cannot split the runs over
# workers and start the driver (and pay its imports) more than once.
@pytest.mark.slow
def test_every_example_dummy_run_writes_logs_and_images(tmp_path: Path) -> None:
    results = run_examples(tmp_path)
    expected = list(RUNS)
    assert sorted(results) == sorted([*expected, "missing-cifar10", "demo-quick"])
    problems = [
        problem
        for run_id in expected
        for problem in example_problems(tmp_path, run_id, results[run_id])
    ]
    assert not problems, "\n\n".join(problems)

    # Fashion-MNIST came from the fake Debian folder (named by PYGEN_FASHION_MNIST_FOLDER),
    # arranged where torchvision reads it.
    output = results["mnist_classifier-fashion_mnist"]["output"]
    assert f"from {tmp_path / 'debian-fashion-mnist'} (arranged in" in output
    assert (tmp_path / "datasets" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()

    # A missing dataset stops the program with the instructions, not a traceback.
    status = results["missing-cifar10"]["status"]
    assert status.startswith("SystemExit('error: CIFAR-10 was not found in"), status
    assert "cifar-10-python.tar.gz" in status
    assert "Traceback" not in status

    # The demo's --quick mode prints its metrics and writes logs, grids and results.json.
    result = results["demo-quick"]
    assert result["status"] == "ok", result["status"] + "\n" + result["output"]
    demo = tmp_path / "demo"
    metrics = json.loads((demo / "results.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics["nll_nats"] > 0
    assert metrics["bits_per_dim"] == pytest.approx(metrics["nll_nats"] / (64 * np.log(2)))
    for name in ("classifier", "pixelcnn"):
        assert list((demo / "tensorboard" / name).glob("events.out.tfevents.*"))
    for stem in (
        "test_classifications_0000",
        "samples_0000",
        "samples_large_0001",
        "completions_0000",
        "completions_large_0001",
    ):
        assert (demo / "images" / f"{stem}.png").is_file()
    assert f"classifier accuracy       {metrics['accuracy']:.4f}" in result["output"]
    assert "nats per image" in result["output"]
    assert "bits/dim" in result["output"]


def test_vae_help_gives_one_default_per_flag_and_the_real_validation_size() -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "vae.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"COLUMNS": "1000", "PATH": "", "PYTHONPATH": ":".join(sys.path)},
    )
    options: list[str] = []  # one string per option, its wrapped help lines joined
    for line in completed.stdout.splitlines():
        if line.startswith("  -"):
            options.append(line)
        elif options and line.startswith("    "):
            options[-1] += " " + line.strip()
    options = [" ".join(option.split()) for option in options if option.startswith("  --")]
    assert any(option.startswith("--tb_folder") for option in options)
    assert len(options) > 15, completed.stdout
    for line in options:
        assert line.count("(default:") <= 1, line
    digits = datasets.load_digits()
    validation = round(len(digits.train) / 12)  # what common.load_splits holds out
    (iwae,) = [line for line in options if line.startswith("--val_iwae_k")]
    assert f"all {validation} for digits" in iwae
    assert "(default: 100)" in iwae
    (epochs,) = [line for line in options if line.startswith("--max_epoch")]
    assert "(default: 50 on digits" in epochs

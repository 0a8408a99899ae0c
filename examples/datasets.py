"""Image datasets for the pygen examples, loaded whole into memory.

Every loader returns an :class:`ImageDatasets`: a train and a test
``torch.utils.data.TensorDataset`` of ``(image, label)`` pairs, images as float tensors in
``[0, 1]``, channel-first (``[C, H, W]``), labels as ``int64`` class indices. Holding the
whole dataset as two tensors is what lets the pygen trainer slice batches directly instead
of fetching and collating one item at a time.

Where the data comes from:

- ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``: torchvision's own dataset classes read
  the files under ``datasets_folder`` (``MNIST/raw``, ``FashionMNIST/raw``,
  ``cifar-10-batches-py``). When the files are missing torchvision downloads them, unless
  ``download=False``. A download that fails raises :class:`DatasetNotFoundError`, whose
  message says where to put the files and how to get them.
- ``"fashion_mnist"`` offline: before downloading, the IDX files installed by Debian's
  ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``; another folder
  with the environment variable ``PYGEN_FASHION_MNIST_FOLDER`` or the ``debian_folder``
  argument) are unpacked into ``<datasets_folder>/FashionMNIST/raw`` where torchvision
  reads them.
- ``"digits"``: scikit-learn's bundled 8x8 digits (1797 images, 17 grey levels), which need
  no download at all; a fixed 80/20 train/test split.

This module imports only torch, torchvision and (for ``"digits"``) scikit-learn, so the
examples' tests can load it on its own.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import torch
from torch.utils.data import TensorDataset

__all__ = [
    "DATASET_NAMES",
    "DEBIAN_FASHION_MNIST_FOLDER",
    "FASHION_MNIST_FOLDER_VARIABLE",
    "DatasetName",
    "DatasetNotFoundError",
    "ImageDatasets",
    "binarize",
    "find_debian_fashion_mnist",
    "head",
    "install_debian_fashion_mnist",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "split_validation",
]

DatasetName = Literal["mnist", "fashion_mnist", "cifar10", "digits"]
DATASET_NAMES: tuple[str, ...] = get_args(DatasetName)

#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
DEBIAN_FASHION_MNIST_FOLDER = Path("/usr/share/datasets/fashion-mnist")
#: Environment variable naming another folder that holds the Fashion-MNIST IDX files.
FASHION_MNIST_FOLDER_VARIABLE = "PYGEN_FASHION_MNIST_FOLDER"

# The four IDX files of MNIST and Fashion-MNIST, as torchvision names them in <root>/<X>/raw.
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

NO_DOWNLOAD_HINT = "or use --dataset digits (scikit-learn's 8x8 digits), which needs no download"

MNIST_CLASSES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DatasetNotFoundError(RuntimeError):
    """A dataset's files are missing and were not downloaded; the message says how to get them."""


@dataclass(frozen=True)
class ImageDatasets:
    """The train and test splits of one image classification dataset, in memory.

    Attributes:
        name: the dataset's name (one of :data:`DATASET_NAMES`).
        train: ``(image, label)`` pairs for training.
        test: ``(image, label)`` pairs held out for testing.
        classes: the class names, ``classes[i]`` for label ``i``.
        source: where the data was read from (a folder, or a description).
    """

    name: str
    train: TensorDataset
    test: TensorDataset
    classes: tuple[str, ...]
    source: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The ``(C, H, W)`` shape of one image."""
        channels, height, width = self.train.tensors[0].shape[1:]
        return int(channels), int(height), int(width)

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return len(self.classes)


def _expand(folder: str | os.PathLike[str]) -> Path:
    return Path(os.path.expanduser(os.fspath(folder)))


def _image_dataset(images: torch.Tensor, labels: torch.Tensor) -> TensorDataset:
    """``uint8`` images ``[N, C, H, W]`` -> floats in ``[0, 1]``, labels -> ``int64``."""
    return TensorDataset(images.to(torch.float32).div_(255.0), labels.to(torch.int64))


def _not_found_error(
    title: str, where: Path, download: bool, error: BaseException, ways: Sequence[str]
) -> DatasetNotFoundError:
    detail = " ".join(str(error).split()) or type(error).__name__
    if download:
        reason = f"and the download failed ({detail})"
    else:
        reason = (
            f"and downloading was turned off (download=False or --offline; torchvision said: "
            f"{detail})"
        )
    lines = [
        f"{title} was not found in {where} {reason}.",
        "Get it in one of these ways:",
        *(f"  - {way}" for way in ways),
    ]
    return DatasetNotFoundError("\n".join(lines))


def _torchvision_mnist(
    dataset_class: type, title: str, datasets_folder: Path, download: bool, ways: Sequence[str]
) -> tuple[TensorDataset, TensorDataset]:
    raw_folder = datasets_folder / dataset_class.__name__ / "raw"
    try:
        train = dataset_class(os.fspath(datasets_folder), train=True, download=download)
        test = dataset_class(os.fspath(datasets_folder), train=False, download=False)
    except Exception as error:  # torchvision raises RuntimeError, URLError, OSError, ...
        raise _not_found_error(title, raw_folder, download, error, ways) from error
    return (
        _image_dataset(train.data.unsqueeze(1), train.targets),
        _image_dataset(test.data.unsqueeze(1), test.targets),
    )


def load_mnist(datasets_folder: str | os.PathLike[str], *, download: bool = True) -> ImageDatasets:
    """MNIST through ``torchvision.datasets.MNIST``: 60000 train and 10000 test 28x28 digits.

    Args:
        datasets_folder: the root folder; the files are read from ``<it>/MNIST/raw``.
        download: whether torchvision may download the files when they are missing.

    Returns:
        The splits, images ``[1, 28, 28]`` in ``[0, 1]``, classes ``"0"`` to ``"9"``.

    Raises:
        DatasetNotFoundError: if the files are missing and could not be downloaded.
    """
    from torchvision.datasets import MNIST

    folder = _expand(datasets_folder)
    ways = [
        "connect to the internet and run again: torchvision downloads MNIST "
        f"into {folder / 'MNIST' / 'raw'} (about 12 MB)",
        f"or copy {', '.join(IDX_FILES)} (or their .gz files, then gunzip them) into "
        f"{folder / 'MNIST' / 'raw'}",
        NO_DOWNLOAD_HINT,
    ]
    train, test = _torchvision_mnist(MNIST, "MNIST", folder, download, ways)
    return ImageDatasets("mnist", train, test, MNIST_CLASSES, str(folder / "MNIST" / "raw"))


def find_debian_fashion_mnist(debian_folder: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding the Fashion-MNIST IDX files (``.gz`` or not), if there is one.

    Looks in ``debian_folder`` if given, else in the folder named by the environment
    variable ``PYGEN_FASHION_MNIST_FOLDER`` if set, else in
    ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist`` package).

    Args:
        debian_folder: the folder to look in, or None for the defaults above.

    Returns:
        The folder if all four IDX files are there, else None.
    """
    if debian_folder is not None:
        folder = _expand(debian_folder)
    elif os.environ.get(FASHION_MNIST_FOLDER_VARIABLE):
        folder = _expand(os.environ[FASHION_MNIST_FOLDER_VARIABLE])
    else:
        folder = DEBIAN_FASHION_MNIST_FOLDER
    found = all(
        (folder / name).is_file() or (folder / f"{name}.gz").is_file() for name in IDX_FILES
    )
    return folder if found else None


def install_debian_fashion_mnist(
    datasets_folder: str | os.PathLike[str], debian_folder: str | os.PathLike[str]
) -> Path:
    """Arrange the IDX files of ``debian_folder`` where torchvision's FashionMNIST reads them.

    torchvision reads the uncompressed files ``<datasets_folder>/FashionMNIST/raw/<name>``.
    A ``.gz`` file is decompressed there (Debian ships them compressed); an uncompressed
    file is symlinked. Files already in place are left alone. Each file is written under a
    temporary name and renamed, so an interrupted run leaves no half-written file.

    Args:
        datasets_folder: the root folder the examples read datasets from.
        debian_folder: a folder holding the four Fashion-MNIST IDX files.

    Returns:
        The ``FashionMNIST/raw`` folder.

    Raises:
        FileNotFoundError: if ``debian_folder`` lacks one of the four files.
    """
    source = _expand(debian_folder)
    raw_folder = _expand(datasets_folder) / "FashionMNIST" / "raw"
    raw_folder.mkdir(parents=True, exist_ok=True)
    for name in IDX_FILES:
        target = raw_folder / name
        if target.is_file():
            continue
        temporary = raw_folder / f".{name}.partial"
        temporary.unlink(missing_ok=True)
        if (source / name).is_file():
            temporary.symlink_to((source / name).resolve())
        elif (source / f"{name}.gz").is_file():
            with gzip.open(source / f"{name}.gz", "rb") as packed, temporary.open("wb") as out:
                shutil.copyfileobj(packed, out)
        else:
            raise FileNotFoundError(
                f"install_debian_fashion_mnist: debian_folder must hold {name} or {name}.gz; "
                f"got a folder without it: {source}"
            )
        os.replace(temporary, target)
    return raw_folder


def load_fashion_mnist(
    datasets_folder: str | os.PathLike[str],
    *,
    download: bool = True,
    debian_folder: str | os.PathLike[str] | None = None,
) -> ImageDatasets:
    """Fashion-MNIST through ``torchvision.datasets.FashionMNIST``, offline when possible.

    The order: the files already in ``<datasets_folder>/FashionMNIST/raw``; else the
    offline copy found by :func:`find_debian_fashion_mnist`, arranged there by
    :func:`install_debian_fashion_mnist`; else torchvision's download (if ``download``).

    Args:
        datasets_folder: the root folder; the files are read from ``<it>/FashionMNIST/raw``.
        download: whether torchvision may download the files when no copy is found.
        debian_folder: where to look for an offline copy; see
            :func:`find_debian_fashion_mnist`.

    Returns:
        The splits (60000 train, 10000 test), images ``[1, 28, 28]`` in ``[0, 1]``.

    Raises:
        DatasetNotFoundError: if no copy is found and the download failed or was not allowed.
    """
    from torchvision.datasets import FashionMNIST

    folder = _expand(datasets_folder)
    raw_folder = folder / "FashionMNIST" / "raw"
    source = str(raw_folder)
    if not all((raw_folder / name).is_file() for name in IDX_FILES):
        offline = find_debian_fashion_mnist(debian_folder)
        if offline is not None:
            install_debian_fashion_mnist(folder, offline)
            source = f"{offline} (arranged in {raw_folder})"
    ways = [
        "on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist (installs the files "
        f"in {DEBIAN_FASHION_MNIST_FOLDER}, found automatically; for another folder set "
        f"{FASHION_MNIST_FOLDER_VARIABLE}=/path/to/folder)",
        "connect to the internet and run again: torchvision downloads Fashion-MNIST "
        f"into {raw_folder} (about 30 MB)",
        f"or copy {', '.join(IDX_FILES)} (or their .gz files, then gunzip them) into {raw_folder}",
        NO_DOWNLOAD_HINT,
    ]
    train, test = _torchvision_mnist(FashionMNIST, "Fashion-MNIST", folder, download, ways)
    return ImageDatasets("fashion_mnist", train, test, FASHION_MNIST_CLASSES, source)


def load_cifar10(
    datasets_folder: str | os.PathLike[str], *, download: bool = True
) -> ImageDatasets:
    """CIFAR-10 through ``torchvision.datasets.CIFAR10``: 50000 train and 10000 test images.

    Args:
        datasets_folder: the root folder; the files are read from
            ``<it>/cifar-10-batches-py`` (the python version of CIFAR-10).
        download: whether torchvision may download the archive when the files are missing.

    Returns:
        The splits, images ``[3, 32, 32]`` in ``[0, 1]``, the ten CIFAR-10 class names.

    Raises:
        DatasetNotFoundError: if the files are missing and could not be downloaded.
    """
    from torchvision.datasets import CIFAR10

    folder = _expand(datasets_folder)
    batches = folder / CIFAR10.base_folder
    try:
        train = CIFAR10(os.fspath(folder), train=True, download=download)
        test = CIFAR10(os.fspath(folder), train=False, download=False)
    except Exception as error:  # torchvision raises RuntimeError, URLError, OSError, ...
        raise _not_found_error(
            "CIFAR-10",
            batches,
            download,
            error,
            [
                f"connect to the internet and run again: torchvision downloads {CIFAR10.url} "
                f"(about 170 MB) and unpacks it into {batches}",
                f"or download {CIFAR10.url} elsewhere and unpack it into {folder} "
                f"(tar xzf {CIFAR10.filename} -C {folder})",
                "or, to try pygen without any download, run examples/demo.py (8x8 digits)",
            ],
        ) from error

    def to_dataset(split: CIFAR10) -> TensorDataset:
        images = torch.from_numpy(split.data).permute(0, 3, 1, 2).contiguous()
        return _image_dataset(images, torch.tensor(split.targets))

    return ImageDatasets(
        "cifar10", to_dataset(train), to_dataset(test), tuple(train.classes), str(batches)
    )


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> ImageDatasets:
    """scikit-learn's 8x8 digits: 1797 images, grey levels 0..16 scaled to ``[0, 1]``.

    The split is fixed by ``seed``: a random permutation, the last ``test_fraction`` of it
    held out (360 test images by default).

    Args:
        test_fraction: the fraction of images held out for testing, in ``(0, 1)``.
        seed: the seed of the split's permutation.

    Returns:
        The splits, images ``[1, 8, 8]`` in ``[0, 1]``, classes ``"0"`` to ``"9"``.

    Raises:
        ValueError: if ``test_fraction`` is not in ``(0, 1)``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"load_digits: test_fraction must be in (0, 1); got {test_fraction}")
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    test_size = round(len(labels) * test_fraction)
    train_index, test_index = order[:-test_size], order[-test_size:]
    return ImageDatasets(
        "digits",
        TensorDataset(images[train_index], labels[train_index]),
        TensorDataset(images[test_index], labels[test_index]),
        MNIST_CLASSES,
        "sklearn.datasets.load_digits (bundled with scikit-learn)",
    )


def load_dataset(
    name: DatasetName,
    datasets_folder: str | os.PathLike[str] = "~/datasets",
    *,
    download: bool = True,
    debian_folder: str | os.PathLike[str] | None = None,
) -> ImageDatasets:
    """Load a dataset by name; see the module docstring for where each one comes from.

    Args:
        name: one of ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"digits"``.
        datasets_folder: the root folder for the torchvision datasets (unused by digits).
        download: whether torchvision may download missing files.
        debian_folder: where to look for an offline Fashion-MNIST.

    Returns:
        The train and test splits.

    Raises:
        ValueError: for an unknown name.
        DatasetNotFoundError: if the files are missing and could not be downloaded.
    """
    if name == "mnist":
        return load_mnist(datasets_folder, download=download)
    if name == "fashion_mnist":
        return load_fashion_mnist(datasets_folder, download=download, debian_folder=debian_folder)
    if name == "cifar10":
        return load_cifar10(datasets_folder, download=download)
    if name == "digits":
        return load_digits()
    raise ValueError(f"load_dataset: name must be one of {list(DATASET_NAMES)}; got {name!r}")


def binarize(dataset: TensorDataset, threshold: float = 0.5) -> TensorDataset:
    """Binarize the images of ``(image, label)`` pairs: 1.0 where a pixel is above ``threshold``.

    Deterministic (a fixed threshold, not sampling), so every epoch and every run sees the
    same binary images; this is what the Bernoulli PixelCNN and MADE examples train on.

    Args:
        dataset: a ``TensorDataset`` whose first tensor holds images in ``[0, 1]``.
        threshold: the grey level above which a pixel becomes 1.

    Returns:
        A ``TensorDataset`` of the binary images (float 0.0/1.0) and the same labels.
    """
    images, *rest = dataset.tensors
    return TensorDataset((images > threshold).to(images.dtype), *rest)


def split_validation(
    dataset: TensorDataset, validation_size: int, *, seed: int = 0
) -> tuple[TensorDataset, TensorDataset]:
    """Split a random (fixed by ``seed``) ``validation_size`` items off ``dataset``.

    Args:
        dataset: the dataset to split.
        validation_size: how many items go to the validation split, in ``[1, len - 1]``.
        seed: the seed of the permutation.

    Returns:
        ``(train, validation)`` TensorDatasets.

    Raises:
        ValueError: if ``validation_size`` leaves either split empty.
    """
    total = len(dataset)
    if not 0 < validation_size < total:
        raise ValueError(
            f"split_validation: validation_size must be in [1, {total - 1}] for a dataset of "
            f"{total} items; got {validation_size}"
        )
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
    train_index, validation_index = order[:-validation_size], order[-validation_size:]
    return (
        TensorDataset(*(tensor[train_index] for tensor in dataset.tensors)),
        TensorDataset(*(tensor[validation_index] for tensor in dataset.tensors)),
    )


def head(dataset: TensorDataset, size: int) -> TensorDataset:
    """The first ``size`` items of ``dataset`` (all of it if it is smaller), for quick runs.

    Args:
        dataset: the dataset to cut.
        size: the most items to keep.

    Returns:
        A ``TensorDataset`` of at most ``size`` items.
    """
    return TensorDataset(*(tensor[:size] for tensor in dataset.tensors))

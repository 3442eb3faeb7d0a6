"""Fashion-MNIST from its standard IDX files."""

# License: BSD-3-Clause

import os
import re
from pathlib import Path

import numpy as np

from skcal.datasets._idx import read_idx

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist"]

# The ten classes in label order (label 0 is "t-shirt/top").
FASHION_MNIST_CLASSES = (
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)

# Install folder of the IDX files in the Debian package dataset-fashion-mnist.
DEFAULT_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")

# Accepted spellings, compared after lower-casing and removing spaces,
# hyphens, underscores and slashes.
_ALIASES = {
    "tshirttop": 0,
    "tshirt": 0,
    "top": 0,
    "trouser": 1,
    "trousers": 1,
    "pullover": 2,
    "dress": 3,
    "coat": 4,
    "sandal": 5,
    "shirt": 6,
    "sneaker": 7,
    "bag": 8,
    "ankleboot": 9,
    "boot": 9,
}

_FILE_PREFIXES = {"train": "train", "test": "t10k"}


def load_fashion_mnist(classes=("shirt", "t-shirt"), *, data_dir=None, split="train"):
    """Load Fashion-MNIST images of the requested classes from IDX files.

    Parameters
    ----------
    classes : sequence of str or int, or None, default=("shirt", "t-shirt")
        The classes to keep, by name or label number (0 to 9). Names are the
        standard ten, ``"t-shirt/top"``, ``"trouser"``, ``"pullover"``,
        ``"dress"``, ``"coat"``, ``"sandal"``, ``"shirt"``, ``"sneaker"``,
        ``"bag"`` and ``"ankle boot"``, in any case and with spaces, hyphens
        or underscores, and ``"t-shirt"``, ``"tshirt"``, ``"top"`` or
        ``"boot"`` as short forms. ``None`` keeps all ten classes.
    data_dir : str or path-like, default=None
        Folder with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each
        optionally gzip-compressed (``.gz``). ``None`` reads
        ``/usr/share/datasets/fashion-mnist``, where the Debian package
        ``dataset-fashion-mnist`` installs them.
    split : {"train", "test"}, default="train"
        The 60,000 training images or the 10,000 test images.

    Returns
    -------
    X : ndarray of shape (n_samples, 28, 28), dtype=uint8
        The images of the requested classes, in file order.
    y : ndarray of shape (n_samples,), dtype=str
        The standard class name of each image, for example ``"shirt"``.

    Raises
    ------
    FileNotFoundError
        When an IDX file is missing; the message lists the paths tried and
        the command that installs the Debian package.
    ValueError
        For an unknown class name, a repeated class, an unknown split, or a
        damaged IDX file.

    Examples
    --------
    >>> from skcal.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist(classes=("shirt", "t-shirt"))  # doctest: +SKIP
    >>> X.shape, sorted(set(y))  # doctest: +SKIP
    ((12000, 28, 28), ['shirt', 't-shirt/top'])
    """
    if split not in _FILE_PREFIXES:
        raise ValueError(
            f"split={split!r} is not a Fashion-MNIST split; use 'train' or 'test'."
        )
    selected = _resolve_classes(classes)
    data_dir = DEFAULT_DATA_DIR if data_dir is None else Path(data_dir)

    prefix = _FILE_PREFIXES[split]
    images = read_idx(_find_idx_file(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find_idx_file(data_dir, f"{prefix}-labels-idx1-ubyte"))
    _check_pair(images, labels, data_dir, prefix)

    keep = np.isin(labels, selected)
    names = np.asarray(FASHION_MNIST_CLASSES)
    return images[keep], names[labels[keep]]


def _resolve_classes(classes):
    if classes is None:
        return list(range(len(FASHION_MNIST_CLASSES)))
    if isinstance(classes, (str, int)):
        classes = [classes]

    selected = [_class_index(value) for value in classes]
    if len(set(selected)) != len(selected):
        raise ValueError(
            f"classes={list(classes)!r} names the same Fashion-MNIST class more "
            "than once; give each class once."
        )
    return selected


def _class_index(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 0 <= value < len(FASHION_MNIST_CLASSES):
            return int(value)
    elif isinstance(value, str):
        key = re.sub(r"[\s\-_/]", "", value.lower())
        if key in _ALIASES:
            return _ALIASES[key]
    known = ", ".join(repr(name) for name in FASHION_MNIST_CLASSES)
    raise ValueError(
        f"{value!r} is not a Fashion-MNIST class. Use one of {known} (or its "
        "label number 0 to 9)."
    )


def _find_idx_file(data_dir, stem):
    candidates = [data_dir / stem, data_dir / f"{stem}.gz"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate

    tried = ", ".join(os.fspath(path) for path in candidates)
    raise FileNotFoundError(
        f"Fashion-MNIST file {stem} not found; tried {tried}. Install the Debian "
        "package with `apt-get install dataset-fashion-mnist`, or pass data_dir "
        "(--data-dir on the command line) naming a folder with the four IDX files."
    )


def _check_pair(images, labels, data_dir, prefix):
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"The {prefix} IDX files in {data_dir} do not match: images have shape "
            f"{images.shape} and labels {labels.shape}; expected (n, 28, 28) and "
            "(n,). Replace them with the original Fashion-MNIST files."
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(
            f"The {prefix} labels in {data_dir} contain the value {labels.max()}; "
            "Fashion-MNIST labels run from 0 to 9. Replace the file with the "
            "original."
        )

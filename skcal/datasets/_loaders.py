"""Load image folders and CSV lists as checked, lazily read datasets."""

# License: BSD-3-Clause

import os
from collections import Counter
from pathlib import Path

import numpy as np

from skcal.datasets._checks import (
    check_images,
    handle_bad_images,
    warn_loose_files,
    warn_other_files,
)
from skcal.datasets._files import (
    parse_labels,
    read_path_label_csv,
    scan_class_folders,
    walk_images,
)
from skcal.datasets._image_dataset import ImageDataset
from skcal.datasets._transform import resolve_normalization

__all__ = ["load_image_csv", "load_image_folder", "load_images"]

_SHARED_PARAMETERS = """
    image_size : int, (int, int) or None, default=None
        Output ``(height, width)``, or one int for square images. ``None``
        takes the size of the images, which must then all have the same size.
    channels : {1, 3} or None, default=None
        1 converts to grayscale and 3 to RGB. ``None`` selects 1 when every
        image has a single channel and 3 otherwise.
    normalize : bool or (mean, std), default=True
        ``True`` normalises with the ImageNet per-channel mean and standard
        deviation (their averages for grayscale), ``False`` leaves pixel
        values in [0, 1], and a pair ``(mean, std)`` sets them.
    augment : bool, default=False
        Random horizontal flips and small random shifts, for training only;
        ``dataset.with_augmentation(False)`` gives the evaluation view.
    skip_bad_images : bool, default=False
        What to do with files that cannot be read: ``False`` raises
        ``ValueError`` listing them, ``True`` leaves them out with a
        :class:`~skcal.exceptions.DataWarning` that gives their count.
    check : {"fast", "full"}, default="fast"
        How thoroughly each file is read before training, see
        :func:`check_images`.
    progress : bool, default=True
        Show a progress bar while the files are checked.
    classes : sequence of two labels, default=None
        The labels the data must have, for example a trained model's
        ``classes_``; ``None`` accepts any two.
"""


def load_image_folder(path, **options):
    """Load a folder with one subfolder of images per class.

    This is the layout of torchvision's ``ImageFolder``: ``path/cat/1.png``,
    ``path/dog/2.jpg``. Exactly two class folders are required. Images in
    nested folders inside a class folder belong to that class. Hidden files
    and folders are skipped. Files without an image extension are left out
    with a :class:`~skcal.exceptions.DataWarning`. Folder names that are all
    integers (``0``, ``1``) or all ``true``/``false`` become int or bool
    labels; otherwise the labels are the folder names.

    Every file is checked before the dataset is returned (see
    :func:`check_images`), so a damaged file is reported before training.

    Parameters
    ----------
    path : str or path-like
        The folder.
    **options
        Keyword-only options, shared with :func:`load_image_csv`:
    """
    paths, labels, counts, others, loose = scan_class_folders(path)
    _check_class_folders(counts, loose, path)
    warn_other_files(others, path)
    warn_loose_files(loose, path)

    root = os.fspath(path)
    names = [os.path.relpath(image, root) for image in paths]
    return _build_dataset(paths, parse_labels(labels), names, os.fspath(path), **options)


def load_image_csv(csv_path, **options):
    """Load the images listed in a CSV file with ``path`` and ``label`` columns.

    The first row is the header. Relative paths are resolved against the
    folder of the CSV file. Labels that are all integers or all
    ``true``/``false`` become ints or bools; otherwise they stay strings.
    Exactly two labels are required. Missing files are reported like
    damaged ones.

    Parameters
    ----------
    csv_path : str or path-like
        The CSV file.
    **options
        Keyword-only options, shared with :func:`load_image_folder`:
    """
    paths, listed, labels = read_path_label_csv(csv_path, labeled=True)
    _check_label_counts(labels, csv_path)
    return _build_dataset(paths, labels, listed, os.fspath(csv_path), **options)


def load_images(path, *, labeled=True, **options):
    """Load a class folder or a CSV file, labelled or not.

    With ``labeled=True`` this calls :func:`load_image_folder` for a folder
    and :func:`load_image_csv` for a ``.csv`` file. With ``labeled=False``
    a folder is searched recursively for images whatever its layout, a CSV
    file needs only the ``path`` column, and the dataset has no targets.

    Parameters
    ----------
    path : str or path-like
        A folder or a ``.csv`` file.
    labeled : bool, default=True
    **options
        As for :func:`load_image_folder`; ``classes`` applies only to
        labelled data.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found. Pass an image folder or a CSV file with path "
            "and label columns."
        )
    is_csv = path.is_file() and path.suffix.lower() == ".csv"
    if not (path.is_dir() or is_csv):
        raise ValueError(
            f"{path} is neither a folder nor a .csv file. Pass an image folder or "
            "a CSV file with path and label columns."
        )

    if labeled:
        loader = load_image_csv if is_csv else load_image_folder
        return loader(path, **options)

    options.pop("classes", None)
    if is_csv:
        paths, listed, _ = read_path_label_csv(path, labeled=False)
    else:
        paths, others = walk_images(path)
        warn_other_files(others, path)
        if not paths:
            raise ValueError(f"Found no image files in {path} or its subfolders.")
        listed = [os.path.relpath(image, path) for image in paths]
    return _build_dataset(paths, None, listed, os.fspath(path), **options)


for _loader in (load_image_folder, load_image_csv):
    _loader.__doc__ += _SHARED_PARAMETERS + """
    Returns
    -------
    dataset : ImageDataset
        Items are ``(float32 tensor of shape (C, H, W), label index)``;
        ``targets`` holds the labels and ``classes`` the two sorted labels.
"""


def _build_dataset(
    paths,
    labels,
    names,
    source,
    *,
    image_size=None,
    channels=None,
    normalize=True,
    augment=False,
    skip_bad_images=False,
    check="fast",
    progress=True,
    classes=None,
):
    checked = check_images(paths, check=check, progress=progress)
    keep = handle_bad_images(checked, skip_bad_images=skip_bad_images, source=source)

    paths = np.asarray(paths, dtype=str)[keep]
    names = np.asarray(names, dtype=str)[keep]
    if labels is not None:
        labels = np.asarray(labels)[keep]
        _check_label_counts(labels, source, expected=classes)
    if paths.shape[0] == 0:
        raise ValueError(f"None of the image files in {source} can be read.")

    if channels is None:
        channels = 1 if checked.grayscale[keep].all() else 3
    if image_size is None:
        image_size = _common_size(checked.sizes[keep], source)
    mean_std = resolve_normalization(normalize, channels)
    mean, std = (None, None) if mean_std is None else mean_std

    return ImageDataset(
        paths,
        labels,
        image_size=image_size,
        channels=channels,
        mean=mean,
        std=std,
        augment=augment,
        names=names,
    )


def _check_class_folders(counts, loose, path):
    with_images = [name for name, count in counts.items() if count > 0]
    if len(counts) == 2 and len(with_images) == 2:
        return

    found = ", ".join(f"{name!r} ({count} images)" for name, count in counts.items())
    found = found or "no class subfolders"
    if loose:
        found += f", and {len(loose)} file(s) outside any class folder"
    raise ValueError(
        f"A binary classifier needs exactly two class subfolders with images in "
        f"{path}; found {found}. Arrange the images as {path}/<class>/<image> with "
        "two classes, or list them in a CSV file with path,label columns."
    )


def _check_label_counts(labels, source, expected=None):
    counts = Counter(np.asarray(labels).tolist())
    found = sorted(counts)
    if expected is not None:
        expected = sorted(np.asarray(expected).tolist())
        if found == expected:
            return
        requirement = f"the labels {expected!r}"
    elif len(found) == 2:
        return
    else:
        requirement = "exactly two labels"

    listing = ", ".join(f"{label!r} ({counts[label]} images)" for label in found)
    raise ValueError(
        f"The readable images in {source} must have {requirement}; found "
        f"{listing or 'none'}. Select images of two classes."
    )


def _common_size(sizes, source):
    distinct = Counter(map(tuple, sizes.tolist()))
    if len(distinct) == 1:
        return next(iter(distinct))

    common = ", ".join(
        f"{height}x{width} ({count} images)"
        for (height, width), count in distinct.most_common(5)
    )
    raise ValueError(
        f"The images in {source} have {len(distinct)} different sizes (height x "
        f"width), among them {common}. Pass image_size (--image-size on the "
        "command line) to resize them all to one size."
    )

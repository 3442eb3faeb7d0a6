"""Find image files: class folders, recursive folders and CSV lists.

Folder rules, shared by every loader:

* Files and folders whose names start with ``.`` are hidden and skipped.
* Files are images when their extension, in any case, is one of
  ``IMAGE_EXTENSIONS``. Other files are left out, and the loaders report
  them in a :class:`~skcal.exceptions.DataWarning` with their count and a
  few examples, so that a format Pillow could read under another extension
  is not dropped silently.
* Subfolders are searched recursively, symbolic links to folders included;
  a folder reached twice through links is read once.
"""

# License: BSD-3-Clause

import csv
import os
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = frozenset(
    {
        ".bmp",
        ".gif",
        ".jfif",
        ".jpeg",
        ".jpg",
        ".pbm",
        ".pgm",
        ".png",
        ".pnm",
        ".ppm",
        ".tif",
        ".tiff",
        ".webp",
    }
)


def is_image_name(name):
    """Return whether a file name has one of ``IMAGE_EXTENSIONS``."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def walk_images(folder):
    """List the image files under ``folder``, recursively and sorted.

    Returns ``(images, others)``: the image paths, and the paths of the
    non-hidden files without an image extension.
    """
    images, others = [], []
    visited = set()
    for directory, subdirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(directory)
        if real in visited:
            subdirs[:] = []
            continue
        visited.add(real)
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))

        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(directory, name)
            (images if is_image_name(name) else others).append(path)
    return images, others


def scan_class_folders(root):
    """List the labelled images of a folder with one subfolder per class.

    Returns ``(paths, labels, counts, others, loose)``. These are the image
    paths, the class folder name of each, and the number of images per class
    folder (every non-hidden subfolder, also those with no image). Then come
    the non-image files in the class folders, and the files lying directly
    in ``root``, which belong to no class.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"Image folder {root} not found or not a folder. Pass a folder with "
            "one subfolder of images per class."
        )

    paths, labels, others, loose = [], [], [], []
    counts = {}
    for entry in sorted(os.scandir(root), key=lambda entry: entry.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            images, skipped = walk_images(entry.path)
            counts[entry.name] = len(images)
            paths.extend(images)
            labels.extend([entry.name] * len(images))
            others.extend(skipped)
        else:
            loose.append(entry.path)
    return paths, labels, counts, others, loose


def read_path_label_csv(csv_path, *, labeled=True):
    """Read the ``path`` and ``label`` columns of a CSV file.

    The first row is the header; the column names are matched without
    regard to case or surrounding spaces, and other columns are ignored.
    Relative paths are resolved against the CSV file's folder. Returns
    ``(paths, listed_paths, labels)``: the resolved paths, the paths as
    written in the file, and the labels (``None`` when ``labeled=False``).
    Labels are converted by :func:`parse_labels`.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"CSV file {csv_path} not found.")

    with open(csv_path, newline="", encoding="utf-8-sig") as stream:
        rows = list(csv.reader(stream))
    if not rows:
        raise ValueError(
            f"CSV file {csv_path} is empty; it needs a header row with the "
            "columns path,label and one row per image."
        )

    columns = _find_columns(csv_path, rows[0], labeled)
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if row]
    if not body:
        raise ValueError(f"CSV file {csv_path} lists no images below its header.")

    listed = [_cell(csv_path, number, row, columns, "path") for number, row in body]
    paths = [os.path.join(csv_path.parent, path) for path in listed]
    if not labeled:
        return paths, listed, None
    texts = [_cell(csv_path, number, row, columns, "label") for number, row in body]
    return paths, listed, parse_labels(texts)


def parse_labels(texts):
    """Convert label strings to ints or bools when all of them are such.

    Every label an integer literal gives an int64 array, every label
    ``true``/``false`` (any case) a bool array, and otherwise the labels stay
    strings. So a CSV with labels 0 and 1 trains a model whose classes are
    the ints 0 and 1.
    """
    stripped = [text.strip() for text in texts]
    try:
        return np.asarray([int(text) for text in stripped], dtype=np.int64)
    except ValueError:
        pass
    lowered = {text.lower() for text in stripped}
    if lowered <= {"true", "false"}:
        return np.asarray([text.lower() == "true" for text in stripped])
    return np.asarray(stripped, dtype=str)


def _find_columns(csv_path, header, labeled):
    names = [name.strip().lower() for name in header]
    required = ("path", "label") if labeled else ("path",)
    missing = [name for name in required if name not in names]
    if missing:
        raise ValueError(
            f"CSV file {csv_path} has the header {header!r}, which lacks the "
            f"column(s) {', '.join(missing)}. The first row must name the columns, "
            "for example: path,label"
        )
    return {name: names.index(name) for name in required}


def _cell(csv_path, number, row, columns, name):
    column = columns[name]
    value = row[column].strip() if column < len(row) else ""
    if not value:
        raise ValueError(
            f"CSV file {csv_path}, row {number}: the {name} cell is empty in "
            f"{row!r}. Fill it in or remove the row."
        )
    return value

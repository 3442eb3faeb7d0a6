"""The check pass that finds unreadable images before training starts.

Every file is opened with Pillow once, before any training, so that a
corrupt or truncated file fails the run in seconds rather than hours in.
The pass also records each image's size and number of channels, from
which the loaders infer the image size and colour mode.
"""

# License: BSD-3-Clause

import os
import warnings
from dataclasses import dataclass

import numpy as np

from skcal.exceptions import DataWarning

# Bad files listed by name in an error or warning; the rest are counted.
MAX_LISTED_FILES = 20

# Pillow modes with one colour channel.
_GRAYSCALE_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})

CHECK_MODES = ("fast", "full")


@dataclass
class ImageCheck:
    """Results of the check pass over a list of image files.

    Attributes
    ----------
    bad : list of (str, str)
        Path and reason of each file that could not be read.
    ok : ndarray of shape (n_files,), dtype=bool
        Whether each file was read.
    sizes : ndarray of shape (n_files, 2), dtype=int64
        ``(height, width)`` of each file, ``(0, 0)`` for bad files.
    grayscale : ndarray of shape (n_files,), dtype=bool
        Whether each file has one colour channel.
    """

    bad: list
    ok: np.ndarray
    sizes: np.ndarray
    grayscale: np.ndarray


def check_images(paths, *, check="fast", progress=True):
    """Open every image once and record which files cannot be read.

    Parameters
    ----------
    paths : sequence of str
        The image files.
    check : {"fast", "full"}, default="fast"
        ``"fast"`` reads each file's header, verifies the chunk checksums of
        PNG files, decodes JPEG files at the smallest scale libjpeg offers
        (which still reads all their data, so truncation is found), and
        decodes files of other formats in full. ``"full"`` decodes every
        file at full size, which also finds damaged pixel data in PNG files
        whose checksums are intact, at several times the cost.
    progress : bool, default=True
        Show a tqdm progress bar on standard error.

    Returns
    -------
    result : ImageCheck
    """
    if check not in CHECK_MODES:
        raise ValueError(
            f"check={check!r} is not a check mode; use one of {list(CHECK_MODES)}."
        )
    from tqdm.auto import tqdm

    n_files = len(paths)
    result = ImageCheck(
        bad=[],
        ok=np.zeros(n_files, dtype=bool),
        sizes=np.zeros((n_files, 2), dtype=np.int64),
        grayscale=np.zeros(n_files, dtype=bool),
    )
    bar = tqdm(paths, desc="Checking images", unit="img", disable=not progress)
    for index, path in enumerate(bar):
        try:
            width, height, mode = _read_image(path, check)
        except Exception as err:  # noqa: BLE001
            # Pillow raises many exception types on malformed files (OSError,
            # SyntaxError, ValueError, struct.error, DecompressionBombError...),
            # and any of them means that this file cannot be trained on.
            result.bad.append((os.fspath(path), _describe_error(err)))
            continue
        result.ok[index] = True
        result.sizes[index] = (height, width)
        result.grayscale[index] = mode in _GRAYSCALE_MODES
    return result


def _read_image(path, check):
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        mode = image.mode
        if check == "full":
            image.load()
        elif image.format == "PNG":
            image.verify()
        else:
            if image.format == "JPEG":
                image.draft(image.mode, (1, 1))
            image.load()
    return width, height, mode


def _describe_error(err):
    if isinstance(err, FileNotFoundError):
        return "file not found"
    if isinstance(err, PermissionError):
        return "permission denied"
    text = str(err) or type(err).__name__
    return text.replace(os.linesep, " ")


def handle_bad_images(check_result, *, skip_bad_images, source):
    """Raise for unreadable files, or warn and return the mask of readable ones.

    Parameters
    ----------
    check_result : ImageCheck
    skip_bad_images : bool
        ``False`` raises ``ValueError`` listing the bad files; ``True`` emits
        a :class:`~skcal.exceptions.DataWarning` with their count instead.
    source : str
        The folder or CSV file the images came from, for messages.
    """
    bad = check_result.bad
    if not bad:
        return check_result.ok

    n_files = check_result.ok.shape[0]
    listing = _list_bad_files(bad)
    if not skip_bad_images:
        raise ValueError(
            f"{len(bad)} of {n_files} image files in {source} cannot be read:\n"
            f"{listing}\nFix or remove them, or pass skip_bad_images=True "
            "(--skip-bad-images on the command line) to leave them out."
        )
    warnings.warn(
        f"Skipped {len(bad)} of {n_files} image files in {source} that cannot be "
        f"read:\n{listing}",
        DataWarning,
        stacklevel=3,
    )
    return check_result.ok


def _list_bad_files(bad):
    lines = [f"  {path}: {reason}" for path, reason in bad[:MAX_LISTED_FILES]]
    if len(bad) > MAX_LISTED_FILES:
        lines.append(f"  ... and {len(bad) - MAX_LISTED_FILES} more")
    return "\n".join(lines)


def warn_other_files(others, source, *, limit=5):
    """Warn that files without an image extension were left out."""
    if not others:
        return
    from skcal.datasets._files import IMAGE_EXTENSIONS

    examples = ", ".join(os.fspath(path) for path in others[:limit])
    more = f" and {len(others) - limit} more" if len(others) > limit else ""
    warnings.warn(
        f"Left out {len(others)} file(s) in {source} without an image extension "
        f"({', '.join(sorted(IMAGE_EXTENSIONS))}): {examples}{more}. Convert them "
        "or rename them if they are images.",
        DataWarning,
        stacklevel=3,
    )


def warn_loose_files(loose, source, *, limit=5):
    """Warn that files lying directly in a class-folder root were left out."""
    if not loose:
        return
    examples = ", ".join(os.fspath(path) for path in loose[:limit])
    more = f" and {len(loose) - limit} more" if len(loose) > limit else ""
    warnings.warn(
        f"Left out {len(loose)} file(s) lying directly in {source}, outside the "
        f"class folders: {examples}{more}. Move images into the folder of their "
        "class.",
        DataWarning,
        stacklevel=3,
    )

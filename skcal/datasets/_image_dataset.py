"""Torch datasets of labelled images that read one image per item."""

# License: BSD-3-Clause

import copy
import os

import numpy as np
from torch.utils.data import Dataset

from skcal.datasets._transform import ImageTransform

__all__ = ["ArrayImageDataset", "ImageDataset"]


class _BaseImageDataset(Dataset):
    """Shared labels, preprocessing, subsets and augmentation switch."""

    def __init__(self, n_items, targets, classes, image_size, channels, mean, std, augment):
        if channels not in (1, 3):
            raise ValueError(f"channels={channels!r} must be 1 (grayscale) or 3 (RGB).")
        self.image_size = _check_image_size(image_size)
        self.channels = channels
        self.mean = None if mean is None else tuple(float(m) for m in mean)
        self.std = None if std is None else tuple(float(s) for s in std)
        self.augment = bool(augment)
        self._set_targets(n_items, targets, classes)

    def _set_targets(self, n_items, targets, classes):
        if targets is None:
            self.targets = None
            self.classes = None if classes is None else list(classes)
            self._label_indices = np.full(n_items, -1, dtype=np.int64)
            return

        targets = np.asarray(targets)
        if targets.shape != (n_items,):
            raise ValueError(
                f"targets has shape {targets.shape}, expected ({n_items},): one "
                "label per image."
            )
        classes = np.unique(targets if classes is None else np.asarray(classes))
        unknown = np.setdiff1d(targets, classes)
        if unknown.size:
            raise ValueError(
                f"targets contain labels {unknown.tolist()!r} that are not among "
                f"classes={classes.tolist()!r}."
            )
        self.targets = targets
        self.classes = classes.tolist()
        self._label_indices = np.searchsorted(classes, targets).astype(np.int64)

    @property
    def class_to_idx(self):
        """Mapping from each label to its index in ``classes``."""
        return {label: index for index, label in enumerate(self.classes or [])}

    @property
    def preprocessing(self):
        """The settings that turn a file into a tensor, as a JSON-ready dict.

        A dataset built from other images with the same settings feeds a
        trained model what it was trained on, so saved models store them.
        """
        return {
            "image_size": None if self.image_size is None else list(self.image_size),
            "channels": self.channels,
            "mean": None if self.mean is None else list(self.mean),
            "std": None if self.std is None else list(self.std),
        }

    @property
    def transform(self):
        """The :class:`ImageTransform` applied to each image."""
        return ImageTransform(self.image_size, self.channels, self.mean, self.std, self.augment)

    def with_augmentation(self, augment):
        """Return a copy of this dataset with augmentation switched on or off.

        The copy shares the file list and labels. Use
        ``with_augmentation(False)`` for the evaluation view of a training
        set.
        """
        view = copy.copy(self)
        view.augment = bool(augment)
        return view

    def subset(self, indices):
        """Return a dataset of the items at ``indices``, with the same classes and settings.

        Unlike ``torch.utils.data.Subset``, the result keeps ``targets``,
        ``classes`` and the other attributes, so estimators can read its
        labels.
        """
        indices = np.asarray(indices, dtype=np.int64)
        view = copy.copy(self)
        view._select(indices)
        if self.targets is not None:
            view.targets = self.targets[indices]
        view._label_indices = self._label_indices[indices]
        return view

    def __getitem__(self, index):
        """Return item ``index``, or a :meth:`subset` for a slice or an index array.

        Subsets by index arrays let scikit-learn meta-estimators that split
        their input with ``X[rows]`` take these datasets.
        """
        if isinstance(index, (slice, list, np.ndarray)):
            return self.subset(np.arange(len(self))[index])
        image = self._load(index)
        return self.transform(image), int(self._label_indices[index])


class ImageDataset(_BaseImageDataset):
    """Images read lazily from files, with their labels.

    Each item is opened with Pillow when it is requested, so memory does not
    grow with the number of images, and the dataset pickles to its file list
    and settings, so ``DataLoader`` worker processes can use it. Build one
    with :func:`load_image_folder`, :func:`load_image_csv` or
    :func:`load_images`, which check the files first.

    Parameters
    ----------
    paths : sequence of str
        Image files.
    targets : array-like of shape (n_images,) or None
        Label of each image; ``None`` for unlabelled images (prediction).
    classes : sequence, default=None
        The sorted labels; ``None`` takes the distinct ``targets``.
    image_size : int, (int, int) or None, default=None
        Output ``(height, width)``, or one int for square images; ``None``
        keeps each file's size, which then must be the same for all files.
    channels : {1, 3}, default=3
        1 converts to grayscale, 3 to RGB.
    mean, std : sequence of float or None, default=None
        Per-channel normalisation applied after scaling to [0, 1].
    augment : bool, default=False
        Random horizontal flips and small random shifts, for training only.

    names : sequence of str, default=None
        How each image is shown in messages and prediction files, for
        example its path relative to the loaded folder; ``None`` uses
        ``paths``.

    Attributes
    ----------
    paths : ndarray of str
    names : ndarray of str
    targets : ndarray or None
        The original label of each image.
    classes : list or None
        The sorted labels. An item's label index is its position here.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skcal.datasets import ImageDataset
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(2)]
    >>> for i, path in enumerate(paths):
    ...     Image.fromarray(np.full((8, 8), 200 * i, dtype=np.uint8)).save(path)
    >>> dataset = ImageDataset(paths, ["cat", "dog"], channels=1, image_size=16)
    >>> image, label = dataset[1]
    >>> tuple(image.shape), label, dataset.classes
    ((1, 16, 16), 1, ['cat', 'dog'])
    """

    def __init__(
        self,
        paths,
        targets=None,
        *,
        classes=None,
        image_size=None,
        channels=3,
        mean=None,
        std=None,
        augment=False,
        names=None,
    ):
        # A fixed-width string array, unlike a list of str objects, is not
        # touched by reference counting, so forked DataLoader workers share
        # its memory pages instead of copying them.
        self.paths = np.asarray([os.fspath(path) for path in paths], dtype=str)
        self.names = self.paths if names is None else np.asarray(names, dtype=str)
        if self.names.shape != self.paths.shape:
            raise ValueError(
                f"names has {self.names.shape[0]} entries for {len(self.paths)} "
                "paths; give one name per path."
            )
        super().__init__(
            len(self.paths), targets, classes, image_size, channels, mean, std, augment
        )

    def __len__(self):
        return len(self.paths)

    def _select(self, indices):
        self.paths = self.paths[indices]
        self.names = self.names[indices]

    def _load(self, index):
        from PIL import Image

        path = self.paths[index]
        try:
            with Image.open(path) as image:
                image.load()
                return image
        except Exception as err:  # noqa: BLE001
            # Pillow raises many exception types for a damaged file.
            raise OSError(
                f"Cannot read image {path}: {err}. The file changed or was damaged "
                "after the check pass; fix or remove it and run again."
            ) from err


class ArrayImageDataset(_BaseImageDataset):
    """Images held in a uint8 array, with the preprocessing of :class:`ImageDataset`.

    Parameters
    ----------
    images : ndarray of shape (n, H, W) or (n, H, W, 3), dtype=uint8
    targets, classes, image_size, channels, mean, std, augment
        As in :class:`ImageDataset`.
    """

    def __init__(
        self,
        images,
        targets=None,
        *,
        classes=None,
        image_size=None,
        channels=3,
        mean=None,
        std=None,
        augment=False,
    ):
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise ValueError(
                f"images must be a uint8 array of shape (n, H, W) or (n, H, W, 3), "
                f"got dtype {images.dtype} and shape {images.shape}."
            )
        self.images = images
        super().__init__(
            len(images), targets, classes, image_size, channels, mean, std, augment
        )

    def __len__(self):
        return self.images.shape[0]

    def _select(self, indices):
        self.images = self.images[indices]

    def _load(self, index):
        from PIL import Image

        return Image.fromarray(self.images[index])


def _check_image_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    try:
        height, width = (int(side) for side in image_size)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"image_size={image_size!r} must be an int or a pair (height, width)."
        ) from err
    if height < 1 or width < 1:
        raise ValueError(f"image_size={image_size!r} must be positive.")
    return height, width

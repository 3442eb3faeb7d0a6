"""Torch helpers shared by skcal's neural estimators.

Device selection, seeding that leaves the caller's random generators alone,
a scoped thread count, image datasets built from arrays, and a training
data loader whose batches never contain a single sample.
"""

import contextlib
import math
import numbers

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

from ._validation import check_finite


def resolve_device(device):
    """Return the ``torch.device`` that ``device`` names.

    ``"auto"`` selects CUDA when it is available and the CPU otherwise. An
    explicit CUDA or MPS device on a machine without that backend raises
    ``ValueError``.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device={device!r} is not a valid torch device. Pass 'auto', 'cpu', "
            "'cuda', 'cuda:<index>' or a torch.device."
        ) from err

    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} requests CUDA, but torch.cuda.is_available() is "
            "False on this machine. Pass device='cpu', or device='auto' to use "
            "CUDA only where it is available."
        )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} requests MPS, but torch.backends.mps.is_available() "
            "is False on this machine. Pass device='cpu' or device='auto'."
        )
    return resolved


@contextlib.contextmanager
def torch_num_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``.

    The previous thread count is restored on exit, also after an error.
    ``None`` leaves the thread count unchanged. The setting is global to
    the process, so threads that run torch code concurrently see it too.
    """
    if n_threads is None:
        yield
        return

    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def draw_seeds(random_state, n_seeds):
    """Derive ``n_seeds`` independent seeds in [0, 2**32) from ``random_state``.

    ``random_state`` is an int, a ``numpy.random.RandomState``, or ``None``.
    For ``None`` the root seed is drawn from torch's global generator, so
    ``torch.manual_seed`` makes such runs repeatable. The global NumPy
    generator is never used.
    """
    if random_state is None:
        root = int(torch.randint(0, 2**62, (), dtype=torch.int64))
    elif isinstance(random_state, np.random.RandomState):
        root = int(random_state.randint(0, 2**31 - 1))
    else:
        root = int(random_state)

    states = np.random.SeedSequence(root).generate_state(n_seeds)
    return [int(state) for state in states]


@contextlib.contextmanager
def seeded_torch_rng(seed):
    """Seed torch's global CPU generator inside the block and restore it after.

    Module constructors such as torchvision's ``resnet18`` draw their initial
    weights from the global generator. Running them in this block makes the
    weights a function of ``seed`` without changing the caller's generator.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def check_image_array(X, *, name="X"):
    """Validate an image array and return it with shape (n, C, H, W).

    Accepts shape (n, H, W), taken as one channel, or (n, C, H, W), with
    dtype ``uint8`` or any floating dtype. The dtype is kept, because
    :class:`ImageArrayDataset` converts one image at a time.
    """
    images = np.asarray(X)
    if images.dtype.kind not in "f" and images.dtype != np.uint8:
        raise TypeError(
            f"{name} has dtype {images.dtype}, expected uint8 (scaled to [0, 1]) or "
            "a floating dtype. Convert the images, for example with "
            f"{name}.astype(np.float32), after scaling them to the range you train on."
        )
    if images.ndim == 3:
        images = images[:, np.newaxis, :, :]
    if images.ndim != 4:
        raise ValueError(
            f"{name} must have shape (n, H, W) or (n, C, H, W), got an array of "
            f"shape {np.shape(X)}. Stack the images into one array of that form."
        )
    if images.shape[0] == 0:
        raise ValueError(f"{name} contains no images. Pass at least one image.")
    if 0 in images.shape[1:]:
        raise ValueError(
            f"{name} has shape {images.shape}, but channels, height and width "
            "must all be at least 1."
        )

    check_finite(images, name=name)
    return images


def image_to_tensor(image):
    """Return one image as a float32 tensor, scaling ``uint8`` values to [0, 1]."""
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(image)
    if not isinstance(image, torch.Tensor):
        raise TypeError(
            f"Dataset images must be tensors or arrays, got {type(image).__name__}. "
            "Return a float32 tensor of shape (C, H, W) from __getitem__."
        )
    if image.dtype == torch.uint8:
        return image.to(torch.float32) / 255.0
    if not image.is_floating_point():
        raise TypeError(
            f"A dataset image has dtype {image.dtype}, expected float32 or uint8. "
            "Convert the images in the dataset's __getitem__."
        )
    return image.to(torch.float32)


class ImageArrayDataset(Dataset):
    """Images from an array of shape (n, C, H, W), with per-sample targets.

    Each item is ``(image, target)``: the image as a float32 tensor and the
    target as a dict of ``"label"`` (0 or 1) and ``"weight"``, both float32.
    Without labels the target is the integer 0, for prediction.
    """

    def __init__(self, images, labels=None, weights=None):
        self.images = images
        self.labels = labels
        self.weights = weights

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        image = image_to_tensor(np.ascontiguousarray(self.images[index]))
        return image, _target_item(self.labels, self.weights, index)


class RelabeledDataset(Dataset):
    """A user's dataset of ``(image, label)`` items with labels replaced.

    Items become ``(image, target)`` as in :class:`ImageArrayDataset`. The
    original item's label is dropped, because ``labels`` already contains
    the encoded labels of all items.
    """

    def __init__(self, dataset, labels=None, weights=None):
        self.dataset = dataset
        self.labels = labels
        self.weights = weights

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        item = self.dataset[index]
        image = item[0] if isinstance(item, (tuple, list)) else item
        return image_to_tensor(image), _target_item(self.labels, self.weights, index)


def _target_item(labels, weights, index):
    if labels is None:
        return 0
    return {
        "label": torch.tensor(labels[index], dtype=torch.float32),
        "weight": torch.tensor(weights[index], dtype=torch.float32),
    }


class NoSingletonBatchSampler(BatchSampler):
    """Batch sampler that merges a final batch of one sample into the batch before.

    BatchNorm in training mode raises on a batch of one sample when the
    feature maps are 1x1, as in ResNet18's last stages for 8x8 inputs.
    With ``n % batch_size == 1`` and ``n > 1`` the last batch therefore has
    ``batch_size + 1`` samples. Every sample is used once per epoch.
    """

    def __init__(self, sampler, batch_size):
        super().__init__(sampler, batch_size, drop_last=False)

    def __iter__(self):
        pending = None
        for batch in super().__iter__():
            if pending is not None and len(batch) == 1:
                pending = pending + batch
                continue
            if pending is not None:
                yield pending
            pending = batch
        if pending is not None:
            yield pending

    def __len__(self):
        n_samples = len(self.sampler)
        n_batches = math.ceil(n_samples / self.batch_size)
        if n_batches > 1 and n_samples % self.batch_size == 1:
            n_batches -= 1
        return n_batches


def make_train_loader(dataset, batch_size, seed, num_workers=0):
    """Build a shuffling loader whose order depends only on ``seed``.

    Batches come from :class:`NoSingletonBatchSampler`. This signature fits
    skorch's ``iterator_train`` parameter, which receives the dataset and
    the ``iterator_train__*`` keyword arguments.
    """
    generator = torch.Generator()
    generator.manual_seed(seed)
    sampler = RandomSampler(dataset, generator=generator)
    return DataLoader(
        dataset,
        batch_sampler=NoSingletonBatchSampler(sampler, batch_size),
        num_workers=num_workers,
        generator=generator,
    )


def make_eval_loader(dataset, batch_size, num_workers=0):
    """Build a loader that keeps the dataset order, for validation and prediction.

    It carries its own generator because a ``DataLoader`` without one draws a
    worker seed from torch's global generator on every pass.
    """
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        generator=torch.Generator(),
    )


def is_positive_int(value):
    """Return whether ``value`` is an int (not a bool) of at least 1."""
    return is_int(value) and value >= 1


def is_int(value):
    """Return whether ``value`` is an integer, excluding bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)

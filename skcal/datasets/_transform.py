"""Turn one Pillow image into the normalised tensor the network reads."""

# License: BSD-3-Clause

import numbers

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "ImageTransform", "resolve_normalization"]

# Per-channel statistics of the ImageNet training images (RGB, values in
# [0, 1]), the normalisation torchvision's pretrained ResNet18 weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Fraction of the shorter image side by which augmentation shifts a crop.
CROP_SHIFT_FRACTION = 0.125

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L"})


def resolve_normalization(normalize, channels):
    """Return the ``(mean, std)`` tuples that ``normalize`` selects, or ``None``.

    ``True`` selects the ImageNet statistics, averaged over the three
    channels for grayscale images. ``False`` selects no normalisation. A
    pair ``(mean, std)`` of floats or of per-channel sequences is used as
    given.
    """
    if normalize is False or normalize is None:
        return None
    if normalize is True:
        if channels == 1:
            return (float(np.mean(IMAGENET_MEAN)),), (float(np.mean(IMAGENET_STD)),)
        return IMAGENET_MEAN, IMAGENET_STD

    try:
        mean, std = normalize
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"normalize={normalize!r} must be True, False or a pair (mean, std)."
        ) from err
    mean, std = _per_channel(mean, channels, "mean"), _per_channel(std, channels, "std")
    if min(std) <= 0:
        raise ValueError(f"normalize std={std!r} must be positive in every channel.")
    return mean, std


def _per_channel(values, channels, name):
    if isinstance(values, numbers.Real):
        values = [values]
    values = tuple(float(value) for value in values)
    if len(values) == 1:
        values = values * channels
    if len(values) != channels or not np.all(np.isfinite(values)):
        raise ValueError(
            f"normalize {name}={values!r} must be one finite number or {channels} "
            f"(one per channel) for images with {channels} channel(s)."
        )
    return values


class ImageTransform:
    """Convert a Pillow image to a float32 tensor of shape (C, H, W).

    The image is converted to grayscale (``channels=1``) or RGB
    (``channels=3``), resized with bilinear filtering to ``image_size`` when
    it differs, and scaled to [0, 1]. With ``augment``, it is flipped
    horizontally with probability 0.5 and then shifted by up to an eighth
    of the shorter side, with the border reflected. Last, it is normalised
    with ``mean`` and ``std``.

    16-bit grayscale images are scaled by 65535, so they keep their full
    range instead of being clipped to 8 bits. Augmentation draws from
    torch's global generator, which ``DataLoader`` seeds differently in each
    worker process.

    Parameters
    ----------
    image_size : tuple of (int, int) or None
        ``(height, width)`` of the output; ``None`` keeps each image's size.
    channels : {1, 3}
    mean, std : tuple of float or None
        Per-channel normalisation; ``None`` for none.
    augment : bool
    """

    def __init__(self, image_size, channels, mean=None, std=None, augment=False):
        self.image_size = image_size
        self.channels = channels
        self.mean = mean
        self.std = std
        self.augment = augment

    def __call__(self, image):
        image = self._convert(image)
        if self.image_size is not None:
            height, width = self.image_size
            if image.size != (width, height):
                image = image.resize((width, height), _bilinear())

        tensor = _to_unit_tensor(image)
        if self.augment:
            tensor = _random_flip_and_shift(tensor)
        if self.mean is not None:
            mean = torch.tensor(self.mean, dtype=torch.float32).view(-1, 1, 1)
            std = torch.tensor(self.std, dtype=torch.float32).view(-1, 1, 1)
            tensor = (tensor - mean) / std
        return tensor

    def _convert(self, image):
        if self.channels == 1:
            if image.mode in _SIXTEEN_BIT_MODES:
                return image
            return image if image.mode == "L" else image.convert("L")
        if image.mode in _SIXTEEN_BIT_MODES:
            image = _sixteen_bit_to_eight_bit(image)
        return image if image.mode == "RGB" else image.convert("RGB")


def _bilinear():
    from PIL import Image

    return Image.Resampling.BILINEAR


def _to_unit_tensor(image):
    if image.mode in _SIXTEEN_BIT_MODES:
        array = np.asarray(image, dtype=np.float32) / 65535.0
    else:
        array = np.asarray(image, dtype=np.float32) / 255.0
    if array.ndim == 2:
        array = array[np.newaxis]
    else:
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
    return torch.from_numpy(array)


def _sixteen_bit_to_eight_bit(image):
    from PIL import Image

    array = np.asarray(image, dtype=np.float64) / 257.0
    return Image.fromarray(np.round(array).astype(np.uint8), mode="L")


def _random_flip_and_shift(tensor):
    if torch.rand(()) < 0.5:
        tensor = torch.flip(tensor, dims=(2,))

    height, width = tensor.shape[1:]
    shift = int(CROP_SHIFT_FRACTION * min(height, width))
    shift = min(shift, height - 1, width - 1)
    if shift < 1:
        return tensor
    padded = F.pad(tensor, (shift, shift, shift, shift), mode="reflect")
    top = int(torch.randint(0, 2 * shift + 1, ()))
    left = int(torch.randint(0, 2 * shift + 1, ()))
    return padded[:, top : top + height, left : left + width].contiguous()

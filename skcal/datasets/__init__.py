"""Image data for skcal's classifiers: folders, CSV lists and Fashion-MNIST.

:func:`load_image_folder` and :func:`load_image_csv` return an
:class:`ImageDataset`, a torch ``Dataset`` that opens one image per item,
so training on hundreds of thousands of files needs memory for one batch,
not for the data set. Every file is checked before the dataset is returned,
so a damaged file is reported before training starts.
:func:`load_fashion_mnist` reads the standard Fashion-MNIST IDX files.
"""

# License: BSD-3-Clause

from skcal.datasets._checks import ImageCheck, check_images
from skcal.datasets._fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from skcal.datasets._files import IMAGE_EXTENSIONS
from skcal.datasets._idx import read_idx
from skcal.datasets._image_dataset import ArrayImageDataset, ImageDataset
from skcal.datasets._loaders import load_image_csv, load_image_folder, load_images
from skcal.datasets._transform import IMAGENET_MEAN, IMAGENET_STD, ImageTransform

__all__ = [
    "FASHION_MNIST_CLASSES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_EXTENSIONS",
    "ArrayImageDataset",
    "ImageCheck",
    "ImageDataset",
    "ImageTransform",
    "check_images",
    "load_fashion_mnist",
    "load_image_csv",
    "load_image_folder",
    "load_images",
    "read_idx",
]

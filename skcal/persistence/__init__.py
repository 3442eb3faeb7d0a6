"""Save and load fitted models as a directory of JSON and safetensors, never pickle.

A model directory contains two files:

``model.safetensors``
    The network parameters and BatchNorm statistics, written with
    ``safetensors.torch.save_file``.
``manifest.json``
    Everything else, as JSON:

    - ``format`` and ``format_version``;
    - ``estimator``: the estimator tree, with the class name, constructor
      parameters and fitted attributes of each step;
    - ``classes`` and ``pos_label``, with their types;
    - ``temperature``, ``bias``, and ``threshold`` with its objective and
      bootstrap interval;
    - ``preprocessing`` (image size, channels, normalisation), ``metrics``
      on held-out data and ``calibration_data`` (a SHA-256 digest), as
      passed in ``metadata``;
    - ``weights``: the SHA-256 digest of ``model.safetensors``;
    - ``versions`` of skcal, torch, torchvision and the other libraries,
      and the ``created`` time.

:func:`load_model` rebuilds the estimators from these fields by calling
their constructors. It never unpickles and never calls ``torch.load``. Only
the estimator classes in ``SUPPORTED_CLASSES`` can be saved and loaded.

:func:`save_model` writes into a temporary directory next to the target,
flushes every file to disk, and then renames it into place. A save that is
interrupted, by an error or by a killed process, therefore leaves the
previous model directory complete and loadable.
"""

# License: BSD-3-Clause

import json
import os
import shutil
import tempfile
from pathlib import Path

from skcal.exceptions import ModelFormatError
from skcal.persistence._atomic import (
    check_target,
    install_directory,
    missing_model_message,
    write_model_files,
)
from skcal.persistence._format import FORMAT_NAME, FORMAT_VERSION, MANIFEST_FILE
from skcal.persistence._manifest import build_manifest, check_format, check_summary, read_weights
from skcal.persistence._tree import SUPPORTED_CLASSES, restore_node

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SUPPORTED_CLASSES",
    "load_model",
    "read_manifest",
    "save_model",
]


def save_model(estimator, path, *, force=False, metadata=None):
    """Save a fitted estimator as a model directory, atomically.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`~skcal.resnet.ResNet18Classifier`, a fitted
        :class:`~skcal.temperature.TemperatureScalingClassifier` around one
        (frozen with ``FrozenEstimator`` or not), or a fitted
        ``TunedThresholdClassifierCV`` or
        :class:`~skcal.tuning.ExactThresholdClassifierCV` around either.
    path : str or path-like
        The model directory to create.
    force : bool, default=False
        Replace an existing model directory. Only a directory that contains
        ``manifest.json``, or an empty one, is replaced.
    metadata : dict, default=None
        JSON-ready information to store with the model. The keys
        ``"preprocessing"`` (for example ``ImageDataset.preprocessing``),
        ``"metrics"`` and ``"calibration_data"`` become sections of the
        manifest; other keys go to its ``"metadata"`` section.

    Returns
    -------
    path : pathlib.Path
        The model directory.

    Raises
    ------
    FileExistsError
        When ``path`` exists and ``force`` is False, or when it exists and is
        not a model directory.
    TypeError
        For an unsupported estimator type or metadata that is not JSON-ready.
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted.

    Notes
    -----
    The files are written into ``.<name>.saving-<random>`` next to ``path``
    and flushed with ``fsync``. A new directory is then renamed to ``path``.
    On Linux, an existing one is swapped with the new one in a single
    ``renameat2(RENAME_EXCHANGE)`` call. Where that call is not available,
    the old directory is renamed aside and the new one renamed in. Between
    these two renames ``path`` is missing, and the previous model is in
    ``.<name>.replaced-<random>``. The replaced directory is deleted last.

    .. warning::
        A process killed during the save leaves its ``.<name>.saving-*``
        directory behind; delete it by hand. The model at ``path`` is not
        affected.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn.datasets import load_digits
    >>> from skcal.resnet import ResNet18Classifier
    >>> from skcal.persistence import load_model, save_model
    >>> digits = load_digits()
    >>> X, y = digits.images[:40] / 16.0, digits.target[:40] == 8
    >>> clf = ResNet18Classifier(max_epochs=1, batch_size=16, device="cpu",
    ...                          n_threads=1, random_state=0).fit(X, y)
    >>> path = save_model(clf, os.path.join(tempfile.mkdtemp(), "model"))
    >>> sorted(os.listdir(path))
    ['manifest.json', 'model.safetensors']
    >>> bool((load_model(path).predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    path = Path(path)
    check_target(path, force)
    manifest, tensors = build_manifest(estimator, metadata)

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.saving-", dir=path.parent))
    try:
        # mkdtemp creates the directory readable by its owner only.
        os.chmod(staging, 0o755)
        write_model_files(staging, manifest, tensors)
        install_directory(staging, path, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def read_manifest(path):
    """Read and validate the manifest of a model directory.

    Parameters
    ----------
    path : str or path-like
        The model directory.

    Returns
    -------
    manifest : dict
        The parsed ``manifest.json``.

    Raises
    ------
    FileNotFoundError
        When the directory or its manifest does not exist.
    ModelFormatError
        When the manifest is not valid JSON, is not an skcal manifest, or has
        a format version this release of skcal does not read.
    """
    path = Path(path)
    manifest_path = path / MANIFEST_FILE
    if not path.is_dir():
        raise FileNotFoundError(missing_model_message(path))
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{path} is not a model directory: {MANIFEST_FILE} not found. Pass a "
            "directory written by skcal.save_model or `skcal fit`."
        )

    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFormatError(
            f"{manifest_path} is not valid JSON ({err}); the file is damaged. "
            "Save the model again."
        ) from err
    check_format(manifest, manifest_path)
    return manifest


def load_model(path, *, device=None):
    """Load a model directory written by :func:`save_model`.

    Nothing is unpickled: the estimators are built from the manifest's
    class names and parameters, and the network weights are read with
    ``safetensors``. The weights file must match the SHA-256 digest in the
    manifest.

    Parameters
    ----------
    path : str or path-like
        The model directory.
    device : str or None, default=None
        Device of the restored networks, ``"auto"``, ``"cpu"``, ``"cuda"``
        ... . ``None`` keeps the saved ``device`` parameter, unless this
        machine lacks that device, in which case ``"auto"`` is used.

    Returns
    -------
    estimator : estimator
        The fitted estimator, of the saved type. Its ``predict_proba``
        equals the saved estimator's exactly on the same device and torch
        thread count.

    Raises
    ------
    FileNotFoundError
        When the directory or one of its files does not exist.
    ModelFormatError
        When the manifest's format version is unknown, a field is missing or
        invalid, or the weights file does not match its digest.
    """
    path = Path(path)
    manifest = read_manifest(path)
    tensors = read_weights(path, manifest)
    context = {"tensors": tensors, "device": device}
    try:
        estimator = restore_node(manifest["estimator"], context)
        check_summary(manifest, estimator, path / MANIFEST_FILE)
        return estimator
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFormatError(
            f"{path / MANIFEST_FILE} has a missing or invalid field ({err!r}). "
            "The file was edited or damaged; save the model again."
        ) from err

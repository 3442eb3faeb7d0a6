"""Save and load fitted models as a directory of JSON and safetensors, never pickle.

A model directory holds two files:

``model.safetensors``
    The network parameters and BatchNorm statistics, written with
    ``safetensors.torch.save_file``.
``manifest.json``
    Everything else: the format version, the estimator tree (class names,
    constructor parameters and fitted attributes of each step), the classes
    and positive label with their types, the temperature and bias, the
    threshold with its objective and interval, the preprocessing of the
    images, held-out metrics, a SHA-256 digest of the weights file and one
    of the calibration data, library versions and the creation time.

:func:`load_model` rebuilds the estimators from these fields by calling
their constructors; it never unpickles and never calls ``torch.load``. Only
the estimator classes in ``SUPPORTED_CLASSES`` can be saved and loaded.

:func:`save_model` writes into a temporary directory next to the target,
flushes every file to disk, and renames it into place, so a save that is
interrupted, by an error or by a killed process, leaves the previous model
directory complete and loadable.
"""

# License: BSD-3-Clause

import ctypes
import datetime
import errno
import hashlib
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from skcal.exceptions import ModelFormatError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SUPPORTED_CLASSES",
    "load_model",
    "read_manifest",
    "save_model",
]

FORMAT_NAME = "skcal-model"
# Version of the manifest layout. Increase it when a change would make older
# skcal releases misread a new manifest; load_model rejects other versions.
FORMAT_VERSION = 1

MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "model.safetensors"

SUPPORTED_CLASSES = (
    "ResNet18Classifier",
    "FrozenEstimator",
    "TemperatureScalingClassifier",
    "TunedThresholdClassifierCV",
    "ExactThresholdClassifierCV",
)

# Keys of ``metadata`` that become top-level sections of the manifest.
METADATA_SECTIONS = ("preprocessing", "metrics", "calibration_data")

# Fitted attributes of the threshold wrappers that are stored, when present.
_THRESHOLD_ATTRIBUTES = ("best_threshold_", "best_score_", "pos_label_")

# The marker key of tagged values in the manifest (tuples, NumPy values and
# parameters that are not JSON values).
_TAG = "$type"


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
    An existing one is swapped with the new one in a single
    ``renameat2(RENAME_EXCHANGE)`` call on Linux; where that call is not
    available, the old directory is renamed aside and the new one renamed
    in, which leaves a window of two renames in which ``path`` is missing
    and the previous model lies in ``.<name>.replaced-<random>``. The
    replaced directory is deleted last.

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
    _check_target(path, force)
    manifest, tensors = _build_manifest(estimator, metadata)

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.saving-", dir=path.parent))
    try:
        os.chmod(staging, 0o755)
        _write_model_files(staging, manifest, tensors)
        _install_directory(staging, path, force)
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
        raise FileNotFoundError(_missing_model_message(path))
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
    _check_format(manifest, manifest_path)
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
    tensors = _read_weights(path, manifest)
    context = {"tensors": tensors, "device": device}
    try:
        return _restore_node(manifest["estimator"], context)
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFormatError(
            f"{path / MANIFEST_FILE} has a missing or invalid field ({err!r}). "
            "The file was edited or damaged; save the model again."
        ) from err


# --- Writing ------------------------------------------------------------------


def _check_target(path, force):
    if not (path.exists() or path.is_symlink()):
        return
    if not force:
        raise FileExistsError(
            f"{path} already exists. Pass force=True (--force on the command line) "
            "to replace it, or choose another path."
        )
    _check_replaceable(path)


def _check_replaceable(path):
    # The check keeps force=True from deleting a directory that is not a
    # model, such as a home directory passed by mistake.
    if path.is_symlink() or not path.is_dir():
        raise FileExistsError(
            f"{path} exists and is not a directory; it cannot be replaced by a "
            "model directory. Remove it or choose another path."
        )
    if (path / MANIFEST_FILE).is_file() or not any(path.iterdir()):
        return
    raise FileExistsError(
        f"{path} exists and is not a model directory (no {MANIFEST_FILE}); it is "
        "not replaced, even with force=True. Choose another path."
    )


def _write_model_files(directory, manifest, tensors):
    from safetensors.torch import save_file

    weights_path = directory / WEIGHTS_FILE
    save_file(tensors, os.fspath(weights_path), metadata={"format": FORMAT_NAME})
    _fsync_file(weights_path)
    manifest["weights"] = {
        "file": WEIGHTS_FILE,
        "sha256": _file_sha256(weights_path),
        "n_tensors": len(tensors),
    }

    manifest_path = directory / MANIFEST_FILE
    with open(manifest_path, "w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2, allow_nan=True)
        stream.write("\n")
        stream.flush()
        os.fsync(stream.fileno())
    _fsync_directory(directory)


def _install_directory(staging, path, force):
    if not (path.exists() or path.is_symlink()):
        try:
            os.rename(staging, path)
        except OSError as err:
            if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise FileExistsError(
                    f"{path} was created by another process during the save. "
                    "Pass force=True to replace it."
                ) from err
            raise
        _fsync_directory(path.parent)
        return

    _check_replaceable(path)
    if _exchange_paths(staging, path):
        # The staging name now points to the previous model.
        _fsync_directory(path.parent)
        shutil.rmtree(staging, ignore_errors=True)
        return
    _replace_in_two_renames(staging, path)


def _replace_in_two_renames(staging, path):
    aside = path.parent / f".{path.name}.replaced-{secrets.token_hex(6)}"
    os.rename(path, aside)
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(aside, path)
        raise
    _fsync_directory(path.parent)
    shutil.rmtree(aside, ignore_errors=True)


def _exchange_paths(first, second):
    """Swap two directories atomically with Linux's renameat2; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False

    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        # Kernels before 3.15 and some file systems lack RENAME_EXCHANGE.
        return False
    raise OSError(code, os.strerror(code), os.fspath(second))


def _fsync_file(path):
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def _fsync_directory(path):
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        # Some platforms and file systems cannot fsync a directory.
        pass
    finally:
        os.close(descriptor)


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _missing_model_message(path):
    leftovers = sorted(path.parent.glob(f".{path.name}.replaced-*")) if path.parent.is_dir() else []
    message = f"Model directory {path} not found."
    if leftovers:
        message += (
            f" A save that replaced it was interrupted; the previous model is in "
            f"{leftovers[0]}. Rename that directory to {path.name} to restore it."
        )
    return message


# --- Manifest -----------------------------------------------------------------


def _build_manifest(estimator, metadata):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    metadata = {} if metadata is None else dict(metadata)
    _check_json_ready(metadata, "metadata")

    tensors = {}
    tree = _describe_node(estimator, tensors)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": _library_versions(),
        **_summary(estimator),
    }
    for section in METADATA_SECTIONS:
        manifest[section] = metadata.pop(section, None)
    manifest["metadata"] = metadata
    manifest["estimator"] = tree
    return manifest, tensors


def _summary(estimator):
    """Return the classes, positive label, temperature and threshold for readers."""
    classes = np.asarray(estimator.classes_)
    pos_label = getattr(estimator, "pos_label_", None)
    if pos_label is None:
        pos_label = getattr(estimator, "pos_label", None)
    if pos_label is None:
        pos_label = classes[-1]

    calibration = _find_step(estimator, "TemperatureScalingClassifier")
    summary = {
        "classes": _encode(classes),
        "pos_label": _encode(pos_label),
        "temperature": None if calibration is None else float(calibration.temperature_),
        "bias": None if calibration is None else float(calibration.bias_),
        "threshold": _threshold_summary(estimator),
    }
    return summary


def _threshold_summary(estimator):
    if not hasattr(estimator, "best_threshold_"):
        return None
    summary = {
        "value": float(estimator.best_threshold_),
        "score": _optional_float(getattr(estimator, "best_score_", None)),
        "objective": None,
        "interval": None,
        "confidence_level": None,
        "applies_to": "predict_proba column of pos_label; positive when >= value",
    }
    objective = getattr(estimator, "objective_", None)
    if objective is not None:
        summary["objective"] = getattr(objective, "name", repr(objective))
    elif isinstance(getattr(estimator, "scoring", None), str):
        summary["objective"] = estimator.scoring

    result = getattr(estimator, "threshold_result_", None)
    if result is not None and result.threshold_interval is not None:
        summary["interval"] = [float(value) for value in result.threshold_interval]
        summary["confidence_level"] = float(result.confidence_level)
    return summary


def _find_step(estimator, class_name):
    """Return the first estimator of ``class_name`` in the tree, or None."""
    step = estimator
    while step is not None:
        if type(step).__name__ == class_name:
            return step
        # vars() rather than getattr(), because FrozenEstimator forwards
        # unknown attributes to the estimator it wraps.
        attributes = vars(step)
        step = attributes.get("estimator_", attributes.get("estimator"))
    return None


def _library_versions():
    import safetensors
    import sklearn
    import skorch
    import torch
    import torchvision

    from skcal import __version__

    return {
        "skcal": __version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _check_format(manifest, manifest_path):
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelFormatError(
            f"{manifest_path} is not an skcal model manifest (format {found!r}, "
            f"expected {FORMAT_NAME!r})."
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        from skcal import __version__

        raise ModelFormatError(
            f"{manifest_path} has format_version {version!r}, but skcal "
            f"{__version__} reads only format_version {FORMAT_VERSION}. Load it with "
            "the skcal release that saved it (see the manifest's versions.skcal), "
            "or save the model again with this release."
        )


def _read_weights(path, manifest):
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    entry = manifest.get("weights")
    if not isinstance(entry, dict) or entry.get("file") != WEIGHTS_FILE:
        raise ModelFormatError(
            f"The manifest in {path} lacks a valid 'weights' entry naming "
            f"{WEIGHTS_FILE}; the file was edited or damaged."
        )
    weights_path = path / WEIGHTS_FILE
    if not weights_path.is_file():
        raise FileNotFoundError(f"{weights_path} not found; the model directory is incomplete.")
    digest = _file_sha256(weights_path)
    if digest != entry.get("sha256"):
        raise ModelFormatError(
            f"{weights_path} does not match the SHA-256 digest in the manifest "
            f"(file {digest}, manifest {entry.get('sha256')}). The file was changed "
            "or damaged; save the model again."
        )
    try:
        return load_file(os.fspath(weights_path), device="cpu")
    except SafetensorError as err:
        raise ModelFormatError(f"{weights_path} is not a valid safetensors file: {err}") from err


# --- Estimator tree -----------------------------------------------------------


def _describe_node(estimator, tensors):
    name = type(estimator).__name__
    describe = _DESCRIBERS.get(name)
    if describe is None or type(estimator) is not _estimator_class(name):
        raise TypeError(
            f"save_model cannot save a {type(estimator).__module__}.{name}. Supported "
            f"types: {', '.join(SUPPORTED_CLASSES)}, composed as a threshold "
            "wrapper around temperature scaling around the network."
        )
    return {"class": name, **describe(estimator, tensors)}


def _restore_node(node, context):
    name = node["class"]
    if name not in _RESTORERS:
        raise ModelFormatError(
            f"The manifest names the estimator class {name!r}, which skcal does not "
            f"load. Known classes: {', '.join(SUPPORTED_CLASSES)}."
        )
    return _RESTORERS[name](node, context)


def _estimator_class(name):
    if name == "ResNet18Classifier":
        from skcal.resnet import ResNet18Classifier

        return ResNet18Classifier
    if name == "TemperatureScalingClassifier":
        from skcal.temperature import TemperatureScalingClassifier

        return TemperatureScalingClassifier
    if name == "ExactThresholdClassifierCV":
        from skcal.tuning import ExactThresholdClassifierCV

        return ExactThresholdClassifierCV
    if name == "TunedThresholdClassifierCV":
        from sklearn.model_selection import TunedThresholdClassifierCV

        return TunedThresholdClassifierCV
    if name == "FrozenEstimator":
        from sklearn.frozen import FrozenEstimator

        return FrozenEstimator
    return None


def _describe_network(network, tensors):
    from sklearn.utils.validation import check_is_fitted

    node = {"params": _encode_params(network, exclude=())}
    try:
        check_is_fitted(network)
    except Exception:  # noqa: BLE001
        # An unfitted network is a template, such as the ``estimator``
        # parameter of a wrapper whose fitted copy is stored separately.
        node["fitted"] = None
        return node

    n_networks = len({key.split(".", 1)[0] for key in tensors})
    prefix = f"network{n_networks}."
    for key, tensor in network.module_.state_dict().items():
        tensors[prefix + key] = tensor.detach().to("cpu").contiguous().clone()
    node["fitted"] = {
        "classes": _encode(np.asarray(network.classes_)),
        "in_channels": int(network.in_channels_),
        "n_epochs": None if network.n_epochs_ is None else int(network.n_epochs_),
        "tensor_prefix": prefix,
    }
    return node


def _restore_network(node, context):
    from skcal._torch_utils import resolve_device

    params = _decode_params(node["params"])
    device = context["device"]
    if device is None:
        try:
            resolve_device(params.get("device", "auto"))
        except ValueError:
            device = "auto"
    if device is not None:
        params["device"] = device

    network = _estimator_class("ResNet18Classifier")(**params)
    fitted = node["fitted"]
    if fitted is None:
        return network

    prefix = fitted["tensor_prefix"]
    state_dict = {
        key[len(prefix) :]: tensor
        for key, tensor in context["tensors"].items()
        if key.startswith(prefix)
    }
    if not state_dict:
        raise ModelFormatError(f"The weights file has no tensors named {prefix}*.")
    return network._restore(
        _decode(fitted["classes"]),
        fitted["in_channels"],
        state_dict,
        n_epochs=fitted["n_epochs"],
    )


def _describe_frozen(frozen, tensors):
    return {"estimator": _describe_node(frozen.estimator, tensors)}


def _restore_frozen(node, context):
    inner = _restore_node(node["estimator"], context)
    return _estimator_class("FrozenEstimator")(inner)


def _describe_wrapper(wrapper, tensors, attributes):
    """Describe a meta-estimator: parameters, template and fitted estimator."""
    node = {
        "params": _encode_params(wrapper, exclude=("estimator",)),
        "estimator": _describe_node(wrapper.estimator, tensors),
    }
    if wrapper.estimator_ is wrapper.estimator:
        fitted_estimator = "same as estimator"
    else:
        fitted_estimator = _describe_node(wrapper.estimator_, tensors)
    fitted = {
        name: _encode(getattr(wrapper, name))
        for name in attributes
        if hasattr(wrapper, name)
    }
    node["fitted"] = {"estimator_": fitted_estimator, **fitted}
    return node


def _restore_wrapper(node, context):
    """Rebuild a meta-estimator and set its fitted attributes, without fitting."""
    template = _restore_node(node["estimator"], context)
    params = _decode_params(node["params"])
    wrapper = _estimator_class(node["class"])(template, **params)

    fitted = dict(node["fitted"])
    fitted_estimator = fitted.pop("estimator_")
    if fitted_estimator == "same as estimator":
        wrapper.estimator_ = template
    else:
        wrapper.estimator_ = _restore_node(fitted_estimator, context)
    for name, value in fitted.items():
        setattr(wrapper, name, _decode(value))
    return wrapper


def _describe_temperature(model, tensors):
    return _describe_wrapper(model, tensors, ("temperature_", "bias_", "classes_"))


def _describe_threshold(model, tensors):
    if type(model).__name__ == "TunedThresholdClassifierCV" and not isinstance(model.scoring, str):
        # Its predict takes the positive label from the scorer, which could
        # not be rebuilt from the manifest.
        raise TypeError(
            f"save_model saves a TunedThresholdClassifierCV only with scoring given "
            f"by name, got scoring={model.scoring!r}. Use a metric name, or "
            "skcal.tuning.ExactThresholdClassifierCV with pos_label."
        )
    node = _describe_wrapper(model, tensors, _THRESHOLD_ATTRIBUTES)
    result = getattr(model, "threshold_result_", None)
    if result is not None:
        node["threshold_result"] = _encode(result.to_dict())
    return node


def _restore_threshold(node, context):
    model = _restore_wrapper(node, context)
    if node["class"] == "TunedThresholdClassifierCV":
        # scikit-learn's predict reads the positive label from this private
        # scorer, which fit builds from the ``scoring`` parameter.
        model._curve_scorer = model._get_curve_scorer()
        return model

    from skcal.objectives import resolve_objective
    from skcal.threshold import ThresholdResult

    if not _is_unsaved(node["params"].get("objective")):
        model.objective_ = resolve_objective(model.objective)
    if "threshold_result" in node:
        fields = _decode(node["threshold_result"])
        for name in ("tied_range", "threshold_interval", "score_interval"):
            if fields.get(name) is not None:
                fields[name] = tuple(fields[name])
        model.threshold_result_ = ThresholdResult(**fields)
    return model


_DESCRIBERS = {
    "ResNet18Classifier": _describe_network,
    "FrozenEstimator": _describe_frozen,
    "TemperatureScalingClassifier": _describe_temperature,
    "TunedThresholdClassifierCV": _describe_threshold,
    "ExactThresholdClassifierCV": _describe_threshold,
}

_RESTORERS = {
    "ResNet18Classifier": _restore_network,
    "FrozenEstimator": _restore_frozen,
    "TemperatureScalingClassifier": _restore_wrapper,
    "TunedThresholdClassifierCV": _restore_threshold,
    "ExactThresholdClassifierCV": _restore_threshold,
}


# --- Values -------------------------------------------------------------------


def _encode_params(estimator, exclude):
    """Encode ``get_params(deep=False)``; values that are not data are kept as repr only.

    Such values (callbacks, optimizer classes, random generators, scorer
    objects) do not affect prediction; :func:`load_model` gives those
    parameters their default values.
    """
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in exclude:
            continue
        try:
            params[name] = _encode(value)
        except TypeError:
            params[name] = {_TAG: "unsaved", "repr": repr(value)}
    return params


def _decode_params(params):
    return {name: _decode(value) for name, value in params.items() if not _is_unsaved(value)}


def _is_unsaved(value):
    return isinstance(value, dict) and value.get(_TAG) == "unsaved"


def _encode(value):
    """Encode a value as JSON data that :func:`_decode` turns back into the same type.

    Python's None, bool, int, float and str are JSON values already. NumPy
    scalars and arrays keep their dtype, tuples stay tuples, and enum
    members (such as torchvision weights) are stored by name.
    """
    if isinstance(value, np.generic):
        return {_TAG: "numpy", "dtype": _dtype_code(value.dtype), "value": value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        return {_TAG: "ndarray", "dtype": _dtype_code(value.dtype), "values": value.tolist()}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        if _TAG in value:
            raise TypeError(f"dict keys may not include {_TAG!r}")
        return {key: _encode(item) for key, item in value.items()}
    if _is_torch_device(value):
        return str(value)
    if hasattr(value, "name") and type(value).__module__.startswith("torchvision."):
        return value.name
    raise TypeError(f"{type(value).__name__} is not stored as data")


def _decode(value):
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {key: _decode(item) for key, item in value.items()}
    if tag == "numpy":
        return np.asarray(value["value"], dtype=_parse_dtype(value["dtype"]))[()]
    if tag == "ndarray":
        return np.asarray(value["values"], dtype=_parse_dtype(value["dtype"]))
    if tag == "tuple":
        return tuple(_decode(item) for item in value["items"])
    raise ModelFormatError(f"Unknown tagged value {tag!r} in the manifest.")


def _dtype_code(dtype):
    if dtype.kind not in "biufUO":
        raise TypeError(f"arrays of dtype {dtype} are not stored")
    return dtype.str


def _parse_dtype(code):
    dtype = np.dtype(code)
    if dtype.kind not in "biufUO":
        raise ModelFormatError(f"The manifest names the unsupported dtype {code!r}.")
    return dtype


def _is_torch_device(value):
    return type(value).__module__ == "torch" and type(value).__name__ == "device"


def _check_json_ready(value, where):
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{where} must contain only JSON values (dict, list, str, int, float, "
            f"bool, None): {err}. Convert NumPy values with .tolist() or .item()."
        ) from err


def _optional_float(value):
    return None if value is None else float(value)

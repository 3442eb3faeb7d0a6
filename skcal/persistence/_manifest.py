"""The manifest of a model directory: building, format checks and weights."""

# License: BSD-3-Clause

import datetime
import json
import os
import platform

import numpy as np

from skcal.exceptions import ModelFormatError
from skcal.persistence._atomic import file_sha256
from skcal.persistence._format import FORMAT_NAME, FORMAT_VERSION, WEIGHTS_FILE
from skcal.persistence._tree import describe_node
from skcal.persistence._values import encode

# Keys of ``metadata`` that become top-level sections of the manifest.
METADATA_SECTIONS = ("preprocessing", "metrics", "calibration_data")


def build_manifest(estimator, metadata):
    """Return the manifest of a fitted estimator and the tensors of its networks."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    metadata = {} if metadata is None else dict(metadata)
    _check_json_ready(metadata, "metadata")

    tensors = {}
    tree = describe_node(estimator, tensors)
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


def check_summary(manifest, estimator, manifest_path):
    """Raise ModelFormatError when the manifest's summary disagrees with its estimator.

    The summary fields (classes, positive label, temperature, bias and
    threshold) repeat values of the estimator tree for readers of the file.
    Loading uses the tree, so an edit to one copy alone must not pass.
    """
    expected = _summary(estimator)
    for key in ("classes", "pos_label", "temperature", "bias"):
        if manifest.get(key) != expected[key]:
            _raise_mismatch(manifest_path, key, manifest.get(key), expected[key])

    saved, restored = manifest.get("threshold"), expected["threshold"]
    saved_value = None if saved is None else saved.get("value")
    restored_value = None if restored is None else restored["value"]
    if saved_value != restored_value:
        _raise_mismatch(manifest_path, "threshold.value", saved_value, restored_value)


def _raise_mismatch(manifest_path, field, saved, restored):
    raise ModelFormatError(
        f"{manifest_path}: the summary field {field} is {saved!r}, but the "
        f"estimator it describes has {restored!r}. The file was edited or "
        "damaged; save the model again."
    )


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
        "classes": encode(classes),
        "pos_label": encode(pos_label),
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


def check_format(manifest, manifest_path):
    """Raise ``ModelFormatError`` unless the manifest has this release's format."""
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


def read_weights(path, manifest):
    """Check the weights file against its digest and load its tensors on the CPU."""
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
    digest = file_sha256(weights_path)
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

"""Encode parameters and fitted values as JSON data that decode to the same types."""

# License: BSD-3-Clause

import numpy as np

from skcal.exceptions import ModelFormatError

# The marker key of tagged values in the manifest (tuples, NumPy values and
# parameters that are not JSON values).
_TAG = "$type"


def encode_params(estimator, exclude):
    """Encode ``get_params(deep=False)``, keeping only the repr of values that are not data.

    Such values (callbacks, optimizer classes, random generators, scorer
    objects) do not affect prediction, so :func:`load_model` gives those
    parameters their default values.
    """
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in exclude:
            continue
        try:
            params[name] = encode(value)
        except TypeError:
            params[name] = {_TAG: "unsaved", "repr": repr(value)}
    return params


def decode_params(params):
    """Decode saved parameters, leaving out those saved as repr only."""
    return {name: decode(value) for name, value in params.items() if not is_unsaved(value)}


def is_unsaved(value):
    """Return whether a parameter was saved as repr only."""
    return isinstance(value, dict) and value.get(_TAG) == "unsaved"


def encode(value):
    """Encode a value as JSON data that :func:`decode` turns back into the same type.

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
        return {_TAG: "tuple", "items": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        if _TAG in value:
            raise TypeError(f"dict keys may not include {_TAG!r}")
        return {key: encode(item) for key, item in value.items()}
    if _is_torch_device(value):
        return str(value)
    if hasattr(value, "name") and type(value).__module__.startswith("torchvision."):
        return value.name
    raise TypeError(f"{type(value).__name__} is not stored as data")


def decode(value):
    """Turn the output of :func:`encode` back into the original value."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {key: decode(item) for key, item in value.items()}
    if tag == "numpy":
        return np.asarray(value["value"], dtype=_parse_dtype(value["dtype"]))[()]
    if tag == "ndarray":
        return np.asarray(value["values"], dtype=_parse_dtype(value["dtype"]))
    if tag == "tuple":
        return tuple(decode(item) for item in value["items"])
    raise ModelFormatError(
        f"The manifest contains the unknown tagged value {tag!r}; the file was "
        "edited or written by a newer skcal. Save the model again."
    )


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

"""Read saved predictions (labels and one or more score columns) from CSV or NPZ."""

import csv
from pathlib import Path

import numpy as np
from scipy.special import expit

LABEL_COLUMN = "y_true"
LOGIT_PREFIX = "logit"
SUFFIXES = (".csv", ".npz")


def read_predictions(path):
    """Read labels and P(positive) columns from a ``.csv`` or ``.npz`` file.

    The file contains a ``y_true`` column (a CSV column, or an NPZ array)
    and one or more score columns. A column whose name starts with
    ``logit`` contains logits, which are converted with the logistic
    function. Any other column contains P(positive). CSV labels that all parse as integers become ints;
    other labels stay strings.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    y_true : ndarray of shape (n_samples,)
    scores : dict of str to ndarray of shape (n_samples,)
        P(positive) per column, in file order.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        For an unknown file type, a missing ``y_true`` column, no score
        column, a non-numeric or NaN score, or columns of unequal length.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"Unknown file type {path.suffix or '(none)'!r} for {path}. Pass a .csv "
            "file with a header row, or an .npz file of 1-D arrays."
        )
    if not path.is_file():
        raise FileNotFoundError(f"Predictions file not found: {path}")

    columns = _read_csv(path) if suffix == ".csv" else _read_npz(path)
    if LABEL_COLUMN not in columns:
        raise ValueError(
            f"{path} has no {LABEL_COLUMN!r} column (found {list(columns)}). Name the "
            f"column of true labels {LABEL_COLUMN!r}."
        )
    y_true = columns.pop(LABEL_COLUMN)
    if not columns:
        raise ValueError(
            f"{path} has a {LABEL_COLUMN!r} column but no score column. Add a column "
            "of P(positive), or of logits with a name starting with 'logit'."
        )
    scores = {name: _to_probability(name, values, path) for name, values in columns.items()}
    return y_true, scores


def _read_csv(path):
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise ValueError(f"{path} is empty. Write a header row that names a {LABEL_COLUMN!r} column.")
        header = [name.strip() for name in header]
        rows = [row for row in reader if row]

    columns = {}
    for position, name in enumerate(header):
        values = []
        for line, row in enumerate(rows, start=2):
            if position >= len(row):
                raise ValueError(
                    f"{path}, line {line}: missing a value for column {name!r}. "
                    "Give every row one value per header column."
                )
            values.append(row[position].strip())
        columns[name] = values
    columns = {name: _parse_column(name, values, path) for name, values in columns.items()}
    return columns


def _parse_column(name, values, path):
    if name == LABEL_COLUMN:
        try:
            return np.array([int(value) for value in values])
        except ValueError:
            return np.array(values)

    parsed = np.empty(len(values))
    for index, value in enumerate(values):
        try:
            parsed[index] = float(value)
        except ValueError as err:
            raise ValueError(
                f"{path}, line {index + 2}: invalid value {value!r} in column "
                f"{name!r}. Scores must be numbers."
            ) from err
    return parsed


def _read_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        columns = {name: np.asarray(archive[name]) for name in archive.files}
    for name, values in columns.items():
        if values.ndim != 1:
            raise ValueError(
                f"{path}: array {name!r} has shape {values.shape}, but every array must be "
                "1-D with one value per sample."
            )
    return columns


def _to_probability(name, values, path):
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: column {name!r} is not numeric. Scores must be numbers.") from err
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"{path}: column {name!r} has {bad.size} NaN or infinite value(s), the first "
            f"in row {int(bad[0]) + 1}. Remove those rows or fix the scores."
        )
    if name.startswith(LOGIT_PREFIX):
        return expit(values)
    return values

"""The main job end to end: train, calibrate, tune and evaluate on real images.

:func:`run_demo` trains skcal's calibrated, threshold-tuned ResNet18 on a
binary task built from real images (scikit-learn's handwritten digits, or two
Fashion-MNIST classes), evaluates it on a held-out test split before and after
temperature scaling, and writes the report. The ``skcal demo`` command is a
thin wrapper around it.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from skcal.pipeline import make_calibrated_classifier

__all__ = ["DemoResult", "load_demo_data", "run_demo"]

#: Columns of the demo table: (key, heading).
TABLE_COLUMNS = (
    ("uncalibrated", "uncalibrated"),
    ("calibrated_default", "calibrated, t=0.5"),
    ("calibrated_tuned", "calibrated, tuned t"),
)

#: Rows of the demo table: (key, label, format).
TABLE_ROWS = (
    ("threshold", "decision threshold", "{:.4f}"),
    ("accuracy", "accuracy", "{:.4f}"),
    ("f1", "F1", "{:.4f}"),
    ("brier_score", "Brier score", "{:.4f}"),
    ("log_loss", "log loss", "{:.4f}"),
    ("ece", "ECE (15 equal-width bins)", "{:.4f}"),
)


@dataclass
class DemoResult:
    """Numbers and files produced by :func:`run_demo`.

    Attributes
    ----------
    metrics : dict
        Test-split metrics per column of the table (``uncalibrated``,
        ``calibrated_default``, ``calibrated_tuned``).
    temperature : float
        The fitted temperature.
    bias : float
        The fitted bias (0.0 unless ``fit_bias=True``).
    threshold : float
        The tuned threshold on the calibrated probability of the positive
        class.
    info : dict
        Data set, split sizes, settings and wall time.
    scores : dict
        Test-split probabilities of the positive class, ``uncalibrated`` and
        ``calibrated``.
    y_test : ndarray
        Test-split labels, 1 for the positive class and 0 otherwise.
    files : dict
        Paths of the written files by name.
    """

    metrics: dict
    temperature: float
    bias: float
    threshold: float
    info: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    y_test: np.ndarray = None
    files: dict = field(default_factory=dict)

    def format_table(self):
        """Return the metrics as a plain-text table."""
        width = max(len(label) for _, label, _ in TABLE_ROWS) + 2
        headings = [heading for _, heading in TABLE_COLUMNS]
        cell = max(len(h) for h in headings) + 2
        lines = [" " * width + "".join(h.rjust(cell) for h in headings)]
        for key, label, fmt in TABLE_ROWS:
            cells = [fmt.format(self.metrics[col][key]) for col, _ in TABLE_COLUMNS]
            lines.append(label.ljust(width) + "".join(c.rjust(cell) for c in cells))
        lines.append("")
        lines.append(f"temperature T = {self.temperature:.4f}")
        if self.bias:
            lines.append(f"bias b = {self.bias:.4f}")
        lines.append(
            f"tuned threshold = {self.threshold:.4f} on P({self.info['pos_label']}) "
            f"for objective {self.info['objective']}"
        )
        return "\n".join(lines)


def load_demo_data(dataset="digits", *, positive_digit=8, classes=None, data_dir=None):
    """Load the images and binary labels of a demo task.

    Parameters
    ----------
    dataset : {"digits", "fashion-mnist"}, default="digits"
        ``"digits"``: scikit-learn's 1,797 handwritten digits (8x8 pixels,
        shipped with scikit-learn), labelled ``True`` for
        ``positive_digit`` and ``False`` otherwise. ``"fashion-mnist"``: the
        two Fashion-MNIST training classes named in ``classes`` (28x28
        pixels), read from ``data_dir`` or the Debian package's folder.
    positive_digit : int, default=8
        The positive class of the digits task (about 10 % of the images).
    classes : sequence of two str, default=None
        Fashion-MNIST class names, negative first; ``None`` means
        ``("t-shirt", "shirt")``.
    data_dir : str or path, default=None
        Folder with the Fashion-MNIST IDX files.

    Returns
    -------
    X : ndarray of shape (n_samples, height, width), float32 in [0, 1]
    y : ndarray of shape (n_samples,)
    pos_label : object
        The positive label in ``y``.
    """
    if dataset == "digits":
        return _load_digits_task(positive_digit)
    if dataset == "fashion-mnist":
        return _load_fashion_mnist_task(classes, data_dir)
    raise ValueError(
        f"dataset={dataset!r} is not supported; use 'digits' or 'fashion-mnist'."
    )


def run_demo(
    *,
    dataset="digits",
    positive_digit=8,
    classes=None,
    data_dir=None,
    objective="f1",
    max_epochs=15,
    batch_size=64,
    image_size=32,
    lr=1e-3,
    test_size=0.3,
    calibration_size=0.2,
    threshold_size=0.2,
    n_samples=None,
    fit_bias=False,
    device="auto",
    n_threads=None,
    random_state=0,
    out="skcal-demo",
    verbose=1,
):
    """Train, calibrate, tune and evaluate on real images; write the report.

    The data set is split, stratified and seeded, into a test split of
    ``test_size`` and a fitting split. :func:`~skcal.make_calibrated_classifier`
    divides the fitting split further into the network's training data, the
    calibration hold-out (``calibration_size``) and the threshold hold-out
    (``threshold_size``), so the network trains exactly once. Metrics are
    computed on the test split for the network's own probabilities at the
    default threshold 0.5, the calibrated probabilities at 0.5, and the
    calibrated probabilities at the tuned threshold.

    Parameters
    ----------
    dataset, positive_digit, classes, data_dir
        The task; see :func:`load_demo_data`.
    objective : str or Objective, default="f1"
        What the tuned threshold maximises.
    max_epochs, batch_size, image_size, lr, device, n_threads
        Passed to :class:`~skcal.ResNet18Classifier`.
    test_size, calibration_size, threshold_size : float
        Fractions for the test split and the two hold-outs.
    n_samples : int, default=None
        Use a stratified subset of this many images (for quick checks).
    fit_bias : bool, default=False
        Fit a bias next to the temperature.
    random_state : int, default=0
        Seeds the splits, the network's initial weights and data order.
    out : str or path, default="skcal-demo"
        Output folder for ``report.html``, ``metrics.json``, ``scores.png``,
        ``reliability.png`` and ``threshold.png``.
    verbose : int, default=1
        0 is silent; 1 shows training progress.

    Returns
    -------
    DemoResult
    """
    start = time.perf_counter()

    X, y, pos_label = load_demo_data(
        dataset, positive_digit=positive_digit, classes=classes, data_dir=data_dir
    )
    if n_samples is not None and n_samples < len(y):
        X, _, y, _ = train_test_split(
            X, y, train_size=n_samples, stratify=y, random_state=random_state
        )
    X_fit, X_test, y_fit, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=random_state
    )

    model = make_calibrated_classifier(
        objective=objective,
        pos_label=pos_label,
        fit_bias=fit_bias,
        calibration_cv=calibration_size,
        threshold_cv=threshold_size,
        random_state=random_state,
        max_epochs=max_epochs,
        batch_size=batch_size,
        image_size=image_size,
        lr=lr,
        device=device,
        n_threads=n_threads,
        verbose=verbose,
    )
    model.fit(X_fit, y_fit)
    fit_seconds = time.perf_counter() - start

    result = _evaluate(model, X_test, y_test, pos_label)
    result.info.update(
        dataset=dataset,
        task=_describe_task(dataset, positive_digit, classes),
        pos_label=_json_label(pos_label),
        objective=model.objective_.name,
        n_samples=int(len(y)),
        n_fit=int(len(y_fit)),
        n_test=int(len(y_test)),
        test_positive_share=float(np.mean(y_test == pos_label)),
        max_epochs=max_epochs,
        n_epochs=int(model.estimator_.estimator_.n_epochs_),
        image_size=image_size,
        random_state=random_state,
        fit_seconds=round(fit_seconds, 1),
    )
    result.files = _write_outputs(result, y_test, pos_label, model.objective_, out)
    result.info["wall_seconds"] = round(time.perf_counter() - start, 1)
    _rewrite_info(result)
    return result


def _evaluate(model, X_test, y_test, pos_label):
    calibrated = model.estimator_
    network = calibrated.estimator_
    positive_column = list(model.classes_).index(pos_label)

    p_raw = network.predict_proba(X_test)[:, positive_column]
    p_cal = calibrated.predict_proba(X_test)[:, positive_column]
    threshold = float(model.best_threshold_)

    metrics = {
        "uncalibrated": _score_column(y_test, p_raw, 0.5, pos_label),
        "calibrated_default": _score_column(y_test, p_cal, 0.5, pos_label),
        "calibrated_tuned": _score_column(y_test, p_cal, threshold, pos_label),
    }
    return DemoResult(
        metrics=metrics,
        temperature=float(calibrated.temperature_),
        bias=float(calibrated.bias_),
        threshold=threshold,
        scores={"uncalibrated": p_raw, "calibrated": p_cal},
        y_test=(np.asarray(y_test) == pos_label).astype(int),
    )


def _score_column(y_true, p_pos, threshold, pos_label):
    from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss

    from skcal.metrics import expected_calibration_error

    y01 = (np.asarray(y_true) == pos_label).astype(int)
    decision = (p_pos >= threshold).astype(int)
    p_clipped = np.clip(p_pos, 0.0, 1.0)
    return {
        "threshold": float(threshold),
        "accuracy": float(accuracy_score(y01, decision)),
        "f1": float(f1_score(y01, decision, zero_division=0.0)),
        "brier_score": float(brier_score_loss(y01, p_clipped)),
        "log_loss": float(log_loss(y01, p_clipped, labels=[0, 1])),
        "ece": float(expected_calibration_error(y01, p_clipped, n_bins=15)),
    }


def _write_outputs(result, y_test, pos_label, objective, out):
    from skcal.report import write_report

    out = Path(out)
    extra = {
        "table": result.metrics,
        "temperature": result.temperature,
        "bias": result.bias,
        "tuned_threshold": result.threshold,
        "info": result.info,
    }
    report = write_report(
        out,
        y_test,
        result.scores,
        threshold={"uncalibrated": 0.5, "calibrated": result.threshold},
        title=f"skcal demo: {result.info['task']}",
        pos_label=pos_label,
        extra_metrics=extra,
        objective=objective,
        random_state=0,
    )
    return {
        "report": report,
        "metrics": out / "metrics.json",
        "scores": out / "scores.png",
        "reliability": out / "reliability.png",
        "threshold": out / "threshold.png",
    }


def _rewrite_info(result):
    # The wall time is known only after the report is written, so it is added
    # to metrics.json afterwards.
    path = result.files["metrics"]
    content = json.loads(path.read_text())
    content.setdefault("extra", {})["info"] = result.info
    path.write_text(json.dumps(content, indent=2))


def _load_digits_task(positive_digit):
    from sklearn.datasets import load_digits

    if positive_digit not in range(10):
        raise ValueError(
            f"positive_digit={positive_digit!r} is not a digit; use 0 to 9."
        )
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)
    y = digits.target == positive_digit
    return X, y, True


def _load_fashion_mnist_task(classes, data_dir):
    from skcal.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
    from skcal.datasets._fashion_mnist import _class_index

    classes = ("t-shirt", "shirt") if classes is None else tuple(classes)
    if len(classes) != 2:
        raise ValueError(
            f"classes={list(classes)!r} must name exactly two Fashion-MNIST "
            "classes, negative first, for example: t-shirt shirt."
        )
    X, y = load_fashion_mnist(classes=classes, data_dir=data_dir, split="train")
    X = (X / np.float32(255.0)).astype(np.float32)
    pos_label = FASHION_MNIST_CLASSES[_class_index(classes[1])]
    return X, y, pos_label


def _describe_task(dataset, positive_digit, classes):
    if dataset == "digits":
        return f"digit {positive_digit} vs the rest (scikit-learn digits)"
    negative, positive = ("t-shirt", "shirt") if classes is None else classes
    return f"Fashion-MNIST {positive} vs {negative}"


def _json_label(label):
    return label.item() if hasattr(label, "item") else label

"""``skcal evaluate``: measure a saved model on labelled images."""

from skcal.cli.fit import HelpFormatter
from skcal.cli.predict import add_inference_arguments

# Bins of the expected calibration error in every metrics table.
ECE_BINS = 15


def register(subparsers):
    """Add the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a saved model's calibration and decisions on labelled images",
        description=(
            "Score the labelled images in DATA (a folder with one subfolder per "
            "class, or a CSV file with path and label columns) with the model in "
            "MODEL_DIR and print threshold-free metrics (ROC AUC, log loss, Brier "
            "score, expected calibration error with 15 equal-width bins) for the "
            "network before and after temperature scaling, and the decision "
            "metrics at the model's threshold. DATA must have the model's two "
            "labels."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="model directory from `skcal fit`")
    parser.add_argument(
        "data", metavar="DATA",
        help="folder with one subfolder of images per class, or CSV file with "
        "path,label columns",
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR",
        help="folder for report.html, its figures and metrics.json (default: print only)",
    )
    add_inference_arguments(parser)
    parser.set_defaults(handler=run)


def run(args):
    """Evaluate the model and print its metrics."""
    from skcal.cli.predict import load_for_inference, preprocessing_options, score_dataset
    from skcal.datasets import load_images

    model, manifest = load_for_inference(args)
    dataset = load_images(
        args.data,
        labeled=True,
        classes=model.classes_,
        skip_bad_images=args.skip_bad_images,
        progress=not args.quiet,
        **preprocessing_options(manifest, args.model_dir),
    )
    scores = score_dataset(model, dataset)
    metrics = compare_metrics(dataset.targets, scores)
    print(format_metrics(metrics, title=f"skcal evaluate: {len(dataset)} images in {args.data}"))

    if args.out is not None:
        title = f"skcal evaluate: {args.data}"
        report = write_evaluation_report(args.out, dataset.targets, scores, metrics, title)
        print(f"wrote {report} and its metrics.json")


def compare_metrics(y_true, scores):
    """Return metrics of the raw network and of the calibrated, thresholded model.

    ``scores`` is the output of :func:`skcal.cli.predict.score_dataset`.
    Values are plain floats and ints, ready for JSON.
    """
    from scipy.special import expit

    pos_label = scores["pos_label"]
    raw_logit = scores["logit"] if pos_label == scores["classes"][1] else -scores["logit"]
    return {
        "n_images": int(len(y_true)),
        "pos_label": _plain(pos_label),
        "uncalibrated": threshold_free_metrics(y_true, expit(raw_logit), pos_label),
        "calibrated": threshold_free_metrics(y_true, scores["probability"], pos_label),
        "at_threshold": decision_metrics(y_true, scores["decision"], pos_label, scores["threshold"]),
    }


def threshold_free_metrics(y_true, p_pos, pos_label):
    """ROC AUC, log loss, Brier score and ECE of the probabilities of ``pos_label``."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from skcal.metrics import brier_score_loss, expected_calibration_error, log_loss

    y01 = (np.asarray(y_true) == pos_label).astype(int)
    return {
        "roc_auc": float(roc_auc_score(y01, p_pos)),
        "log_loss": float(log_loss(y01, p_pos)),
        "brier_score": float(brier_score_loss(y01, p_pos)),
        "ece": float(expected_calibration_error(y01, p_pos, n_bins=ECE_BINS)),
    }


def decision_metrics(y_true, decision, pos_label, threshold):
    """Confusion counts, accuracy, precision, recall and F1 of the decisions."""
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        precision_score,
        recall_score,
    )

    actual = np.asarray(y_true) == pos_label
    predicted = np.asarray(decision) == pos_label
    return {
        "threshold": float(threshold),
        "tp": int(np.sum(actual & predicted)),
        "fp": int(np.sum(~actual & predicted)),
        "tn": int(np.sum(~actual & ~predicted)),
        "fn": int(np.sum(actual & ~predicted)),
        "accuracy": float(accuracy_score(actual, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(actual, predicted)),
        "precision": float(precision_score(actual, predicted, zero_division=0.0)),
        "recall": float(recall_score(actual, predicted, zero_division=0.0)),
        "f1": float(f1_score(actual, predicted, zero_division=0.0)),
    }


def format_metrics(metrics, *, title):
    """Format the output of :func:`compare_metrics` as a short text table."""
    lines = [title, f"positive label: {metrics['pos_label']!r}", ""]
    lines.append(f"{'':14}{'ROC AUC':>9}{'log loss':>10}{'Brier':>9}{'ECE':>9}")
    for name in ("uncalibrated", "calibrated"):
        row = metrics[name]
        lines.append(
            f"{name:14}{row['roc_auc']:9.4f}{row['log_loss']:10.4f}"
            f"{row['brier_score']:9.4f}{row['ece']:9.4f}"
        )
    decided = metrics["at_threshold"]
    lines += [
        "",
        f"at threshold {decided['threshold']:.4g}: accuracy {decided['accuracy']:.4f}, "
        f"balanced accuracy {decided['balanced_accuracy']:.4f}, precision "
        f"{decided['precision']:.4f}, recall {decided['recall']:.4f}, F1 {decided['f1']:.4f}",
        f"tp {decided['tp']}, fp {decided['fp']}, tn {decided['tn']}, fn {decided['fn']}",
    ]
    return "\n".join(lines)


def write_evaluation_report(out, y_true, scores, metrics, title):
    """Write report.html, its figures and metrics.json with ``skcal.report.write_report``.

    The report compares the raw network with the calibrated model, marks
    the model's threshold, and stores ``metrics`` in ``metrics.json`` as
    extra metrics. Returns the path of report.html.
    """
    from scipy.special import expit

    from skcal.report import write_report

    pos_label = scores["pos_label"]
    raw_logit = scores["logit"] if pos_label == scores["classes"][1] else -scores["logit"]
    return write_report(
        out,
        y_true,
        {"uncalibrated": expit(raw_logit), "calibrated": scores["probability"]},
        threshold={"uncalibrated": 0.5, "calibrated": scores["threshold"]},
        title=title,
        pos_label=pos_label,
        extra_metrics=metrics,
    )


def _plain(value):
    return value.item() if hasattr(value, "item") else value

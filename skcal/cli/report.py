"""``skcal report``: a calibration report from saved predictions."""

import argparse

from skcal.cli._types import probability


def register(subparsers):
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write a calibration report from saved predictions",
        description=(
            "Read true labels and one or more score columns from PREDICTIONS and "
            "write report.html (self-contained), metrics.json, scores.png, "
            "reliability.png and threshold.png to --out. PREDICTIONS is a .csv "
            "file with a header row, or an .npz file of 1-D arrays, with a "
            "y_true column and score columns: a column whose name starts with "
            "'logit' contains logits, any other contains P(positive). Several score "
            "columns (before and after calibration, say) are compared."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("predictions", metavar="PREDICTIONS", help="path of the .csv or .npz file")
    parser.add_argument(
        "--out",
        required=True,
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="output folder, created if missing",
    )
    parser.add_argument(
        "--threshold",
        type=probability,
        default=0.5,
        help="decision threshold on P(positive), for every column",
    )
    parser.add_argument("--title", default="Calibration report", help="title of the page")
    parser.add_argument(
        "--pos-label",
        default=None,
        metavar="LABEL",
        help="label of the positive class (default: %(default)s, which selects the larger label)",
    )
    parser.add_argument(
        "--n-resamples",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples per metric",
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed of the bootstrap")
    parser.set_defaults(handler=run)


def run(args):
    """Read the predictions, write the report and print its path."""
    from skcal.report import read_predictions, write_report

    y_true, scores = read_predictions(args.predictions)
    report = write_report(
        args.out,
        y_true,
        scores,
        threshold=args.threshold,
        title=args.title,
        pos_label=_parse_pos_label(args.pos_label, y_true),
        n_resamples=args.n_resamples,
        random_state=args.random_state,
    )
    print(f"wrote {report}")
    return 0


def _parse_pos_label(text, y_true):
    """Convert the --pos-label text to the type of the labels read from the file."""
    if text is None or y_true.dtype.kind not in "iub":
        return text
    try:
        return int(text)
    except ValueError as err:
        raise ValueError(
            f"--pos-label {text!r} is not an integer, but the labels in the file are "
            "integers. Pass one of them."
        ) from err

"""``skcal fit``: train, calibrate and tune a classifier on images, then save it.

The steps: load and check the images, and split them (stratified, seeded)
into training, calibration and validation parts. Train the ResNet18 with a
checkpoint after every epoch. Fit the temperature on the calibration part
with the network frozen, and choose the threshold on the validation part.
Save the model directory with its report. Checkpoints go to
``MODEL_DIR.partial/``, so ``--resume`` continues an interrupted run.
"""

import argparse

from skcal.cli._objective import add_objective_arguments
from skcal.cli._types import fraction, non_negative_int, positive_int

FASHION_MNIST_PREFIX = "fashion-mnist:"
SPLIT_FOLDERS = ("train", "calibration", "validation")
WORK_SUFFIX = ".partial"

# run.json settings that must not change between an interrupted run and its
# resumption, because they change the splits or the network.
RESUME_SETTINGS = (
    "data",
    "seed",
    "calibration_size",
    "threshold_size",
    "image_size",
    "channels",
    "no_normalize",
    "augment",
    "batch_size",
    "lr",
    "weights",
    "patience",
    "validation_fraction",
)

DATA_HELP = (
    "DATA is one of: a folder with one subfolder of images per class "
    "(DATA/<class>/<image>, nested folders included); a folder with the "
    "subfolders train/, calibration/ and validation/, each laid out that way, "
    "which are used as the three splits; a CSV file with path,label columns "
    "(relative paths are resolved against the CSV file's folder); or "
    "fashion-mnist:CLASS,CLASS for two Fashion-MNIST classes, for example "
    "fashion-mnist:shirt,t-shirt, read from --data-dir. Other data are split "
    "into training, calibration and validation parts by --calibration-size and "
    "--threshold-size, stratified by class and seeded by --seed."
)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help formatter that shows defaults, except None and False.

    Options whose default is None describe their behaviour in the help
    text, and flags default to False.
    """

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def register(subparsers):
    """Add the ``fit`` subcommand."""
    parser = subparsers.add_parser(
        "fit",
        help="train, calibrate and tune a ResNet18 on images and save the model",
        description=(
            "Train a ResNet18 on DATA, fit its temperature on a calibration split, "
            "choose its decision threshold on a validation split, and save the "
            "model directory (model.safetensors, manifest.json, report/) to "
            "--out. " + DATA_HELP
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("data", metavar="DATA", help="image folder, CSV file or fashion-mnist:CLASS,CLASS")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    _add_data_arguments(parser)
    _add_training_arguments(parser)
    add_objective_arguments(parser)
    _add_calibration_arguments(parser)
    _add_run_arguments(parser)
    parser.set_defaults(handler=run)


def _add_data_arguments(parser):
    group = parser.add_argument_group("data")
    group.add_argument(
        "--image-size", type=positive_int, default=None, metavar="PIXELS",
        help="side length, in pixels, that every image is resized to (default: "
        "the images' own size, which must then be the same for all)",
    )
    group.add_argument(
        "--channels", type=int, choices=(1, 3), default=None,
        help="1 converts images to grayscale, 3 to RGB (default: 1 when every "
        "image is grayscale, else 3)",
    )
    group.add_argument(
        "--no-normalize", action="store_true",
        help="feed pixel values in [0, 1] instead of normalising with the ImageNet "
        "mean and standard deviation",
    )
    group.add_argument(
        "--augment", action="store_true",
        help="random horizontal flips and small shifts of the training images",
    )
    group.add_argument(
        "--skip-bad-images", action="store_true",
        help="leave out unreadable or corrupt image files with a warning instead "
        "of stopping with a list of them",
    )
    group.add_argument(
        "--calibration-size", type=fraction, default=0.15, metavar="FRACTION",
        help="fraction of the images held out to fit the temperature",
    )
    group.add_argument(
        "--threshold-size", type=fraction, default=0.15, metavar="FRACTION",
        help="fraction of the images held out to choose the threshold",
    )
    group.add_argument(
        "--data-dir", default=None, metavar="DIR",
        help="folder with the Fashion-MNIST IDX files (default: "
        "/usr/share/datasets/fashion-mnist, from the Debian package "
        "dataset-fashion-mnist)",
    )


def _add_training_arguments(parser):
    group = parser.add_argument_group("training")
    group.add_argument("--max-epochs", type=positive_int, default=10, metavar="N", help="maximum training epochs")
    group.add_argument("--batch-size", type=positive_int, default=64, metavar="N", help="images per optimisation step")
    group.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    group.add_argument(
        "--patience", type=non_negative_int, default=5, metavar="EPOCHS",
        help="stop after this many epochs without a lower validation loss and keep "
        "the best epoch's weights; 0 trains all --max-epochs on all training images",
    )
    group.add_argument(
        "--validation-fraction", type=fraction, default=0.1, metavar="FRACTION",
        help="fraction of the training images held out for early stopping",
    )
    group.add_argument(
        "--weights", default=None, metavar="NAME",
        help="pretrained torchvision weights, such as IMAGENET1K_V1, read from the "
        "local torch hub cache (default: random initialisation)",
    )
    group.add_argument(
        "--device", default="auto", help="torch device: auto (CUDA when available), cpu, cuda or cuda:N",
    )
    group.add_argument(
        "--num-workers", type=int, default=0, metavar="N",
        help="DataLoader worker processes that read images; 0 reads in the main process",
    )
    group.add_argument(
        "--threads", type=positive_int, default=None, metavar="N", help="torch CPU threads (default: torch's own choice)",
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the splits, the initial weights and the data order")


def _add_calibration_arguments(parser):
    group = parser.add_argument_group("calibration and threshold")
    group.add_argument("--fit-bias", action="store_true", help="fit a logit bias next to the temperature")
    group.add_argument(
        "--pos-label", default=None, metavar="LABEL",
        help="the positive class, whose probability the threshold applies to "
        "(default: the second of the two sorted labels)",
    )
    group.add_argument(
        "--n-resamples", type=int, default=200, metavar="N",
        help="bootstrap resamples of the validation split for the threshold's 95%% "
        "interval; 0 skips the interval",
    )


def _add_run_arguments(parser):
    group = parser.add_argument_group("run")
    group.add_argument("--force", action="store_true", help="replace an existing MODEL_DIR")
    group.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run from the checkpoints in MODEL_DIR.partial/",
    )
    group.add_argument("--quiet", action="store_true", help="no progress bars or epoch table")


def run(args):
    """Run the whole fit and print a summary."""
    import shutil
    import time

    from skcal.cli._fit_steps import (
        calibrate_and_tune,
        load_splits,
        prepare_work_dir,
        save_fitted_model,
        train_network,
    )

    start = time.perf_counter()
    objective = objective_spec(args)
    work = prepare_work_dir(args)
    splits = load_splits(args)
    network = train_network(splits, args, work)
    model = calibrate_and_tune(network, splits, objective, args)
    summary = save_fitted_model(model, splits, args)
    shutil.rmtree(work, ignore_errors=True)

    summary["seconds"] = time.perf_counter() - start
    print(format_summary(summary))


def objective_spec(args):
    """Return the threshold objective as a JSON-ready specification.

    Named objectives stay strings; ``fbeta:B``, ``--cost`` and
    ``--min-recall`` become ``(name, params)`` pairs, which
    :func:`skcal.objectives.resolve_objective` accepts and a saved model can
    store.
    """
    from skcal.cli._objective import objective_from_args
    from skcal.objectives import resolve_objective

    objective_from_args(args)
    if args.cost is not None:
        spec = ("cost", {"fp_cost": args.cost[0], "fn_cost": args.cost[1]})
    elif args.min_recall is not None:
        spec = ("constrained", {"maximize": "precision", "recall_at_least": args.min_recall})
    elif args.objective.startswith("fbeta:"):
        spec = ("fbeta", {"beta": float(args.objective.partition(":")[2])})
    else:
        spec = args.objective
    resolve_objective(spec)
    return spec


def format_summary(summary):
    """Format the end-of-run summary printed by ``skcal fit``."""
    counts = summary["counts"]
    threshold = summary["threshold"]
    calibrated = summary["metrics"]["calibrated"]
    uncalibrated = summary["metrics"]["uncalibrated"]
    decided = summary["metrics"]["at_threshold"]

    interval = ""
    if threshold.get("interval") is not None:
        low, high = threshold["interval"]
        interval = f", 95% interval [{low:.4g}, {high:.4g}]"
    lines = [
        "",
        f"skcal fit: saved {summary['out']}",
        f"  images: {counts['train']} train, {counts['calibration']} calibration, "
        f"{counts['validation']} validation; classes {summary['classes']!r}, "
        f"positive {summary['pos_label']!r}",
        f"  network: {summary['epochs']} epochs",
        # Adding 0.0 turns a bias of -0.0 into 0.0 for printing.
        f"  temperature {summary['temperature']:.4g}, bias {summary['bias'] + 0.0:.4g}",
        f"  threshold {threshold['value']:.4g} on P({summary['pos_label']!r}), "
        f"maximising {threshold['objective']}{interval}",
        f"  validation: ROC AUC {calibrated['roc_auc']:.4f}; log loss "
        f"{uncalibrated['log_loss']:.4f} -> {calibrated['log_loss']:.4f}; ECE "
        f"{uncalibrated['ece']:.4f} -> {calibrated['ece']:.4f} (before -> after "
        "temperature scaling)",
        f"  at the threshold: F1 {decided['f1']:.4f}, precision {decided['precision']:.4f}, "
        f"recall {decided['recall']:.4f} (optimistic: the threshold was chosen on "
        "these images; use `skcal evaluate` on other data)",
    ]
    lines.append(f"  report: {summary['report']}")
    lines.append(f"  time: {summary['seconds']:.1f} s")
    return "\n".join(lines)

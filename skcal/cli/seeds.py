"""``skcal seeds``: train several runs and measure whether the score skew is real or random."""

import argparse
import time

from skcal.cli._objective import add_objective_arguments, objective_from_args
from skcal.cli._types import add_network_arguments, fraction, positive_int

VARY_CHOICES = {"seed": ("seed",), "seed+bootstrap": ("seed", "bootstrap")}


def register(subparsers):
    """Add the ``seeds`` subcommand."""
    parser = subparsers.add_parser(
        "seeds",
        help="measure how much score skew and threshold vary between training runs",
        description=(
            "Train the same ResNet18 several times on one fixed, stratified "
            "training / calibration / test split, with runs that differ only in "
            "their seed (initial weights and mini-batch order) and optionally a "
            "bootstrap resample of the training split. Each run is calibrated by "
            "temperature scaling and its threshold tuned on the calibration "
            "split. Prints one line per finished run and a summary: how much of "
            "the between-run spread of skew and threshold remains after "
            "calibration, whether the calibrated runs differ beyond test-set "
            "noise, and the recommended threshold. Writes report.html, "
            "seed_study.json and the figures to --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "data",
        nargs="?",
        default=None,
        metavar="DATA",
        help="folder with one subfolder of images per class (exactly two; the "
        "second in sorted order is the positive class). Without DATA: "
        "scikit-learn's handwritten digits, --positive-digit against the rest",
    )
    _add_data_arguments(parser)
    _add_training_arguments(parser)
    _add_study_arguments(parser)
    add_objective_arguments(parser)
    parser.add_argument(
        "--out", default="skcal-seeds", metavar="DIR",
        help="output folder for report.html, seed_study.json and the figures",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress line per finished run",
    )
    parser.set_defaults(handler=run)


def _add_data_arguments(parser):
    data = parser.add_argument_group("data")
    data.add_argument(
        "--positive-digit", type=int, default=8, metavar="D",
        help="digit that is the positive class of the digits task (without DATA)",
    )
    data.add_argument(
        "--subset", type=positive_int, default=None, metavar="N",
        help="use a stratified subset of N samples, for quick checks; None uses all",
    )
    data.add_argument(
        "--test-size", type=fraction, default=0.3, metavar="FRACTION",
        help="fraction of the samples in the test split",
    )
    data.add_argument(
        "--calibration-size", type=fraction, default=0.3, metavar="FRACTION",
        help="fraction of the non-test samples in the calibration split; the rest "
        "trains the networks",
    )


def _add_training_arguments(parser):
    training = parser.add_argument_group("training (each run)")
    add_network_arguments(
        training,
        max_epochs=10,
        device="cpu",
        threads=1,
        threads_help="torch CPU threads per run. CPU training is bitwise "
        "reproducible only at a fixed thread count",
    )


def _add_study_arguments(parser):
    study = parser.add_argument_group("study")
    study.add_argument(
        "--runs", type=positive_int, default=5, metavar="K",
        help="number of training runs, at least 2",
    )
    study.add_argument(
        "--vary", choices=tuple(VARY_CHOICES), default="seed",
        help="what differs between runs: the seed, or the seed and a bootstrap "
        "resample of the training split",
    )
    study.add_argument(
        "--calibration", choices=("temperature", "temperature+bias"),
        default="temperature", help="calibration fitted on the calibration split",
    )
    study.add_argument(
        "--seed", type=int, default=0,
        help="seed of the split, of the runs' seeds and of the bootstrap resamples",
    )
    study.add_argument(
        "--resamples", type=int, default=200, metavar="N",
        help="bootstrap resamples for every interval (0 skips the intervals)",
    )
    study.add_argument(
        "--jobs", type=int, default=-1, metavar="N",
        help="runs trained in parallel through joblib; -1 uses every CPU core "
        "(or every Dask worker with --scheduler)",
    )
    study.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="address of a Dask scheduler, such as tcp://host:8786; the runs then "
        "execute on its workers through joblib's Dask backend",
    )


def run(args):
    """Run the seed study, print its summary and write the report to ``--out``."""
    start = time.perf_counter()
    X, y, task = _load_data(args)
    estimator = _build_estimator(args, resize=args.data is None)
    study_params = dict(
        n_runs=args.runs,
        vary=VARY_CHOICES[args.vary],
        calibration=args.calibration,
        objective=objective_from_args(args),
        test_size=args.test_size,
        calibration_size=args.calibration_size,
        n_resamples=args.resamples,
        n_threads=args.threads,
        n_jobs=args.jobs,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
    )

    print(f"skcal seeds: {task}, {len(y)} samples, {args.runs} runs")
    result = _run_study(estimator, X, y, study_params, args.scheduler)
    files = result.write_report(args.out)

    print()
    print(result.summary())
    print()
    for name, path in files.items():
        print(f"{name:>12}: {path}")
    print(f"wall time: {time.perf_counter() - start:.1f} s")


def _load_data(args):
    if args.data is None:
        from skcal.demo import load_demo_data

        X, y, _ = load_demo_data("digits", positive_digit=args.positive_digit)
        task = f"digit {args.positive_digit} vs the rest (scikit-learn digits)"
    else:
        from skcal.datasets import load_image_folder

        X = load_image_folder(args.data, image_size=args.image_size,
                              progress=not args.quiet)
        y = X.targets
        task = f"images in {args.data}"
    if args.subset is not None:
        X, y = _stratified_subset(X, y, args.subset, args.seed)
    return X, y, task


def _stratified_subset(X, y, n_samples, seed):
    import numpy as np
    from sklearn.model_selection import train_test_split

    from skcal._indexing import take_samples

    y = np.asarray(y)
    if not 2 <= n_samples <= len(y):
        raise ValueError(
            f"--subset {n_samples} is invalid; pass a number of samples from 2 to "
            f"{len(y)}, or leave --subset out to use all of them."
        )
    if n_samples == len(y):
        return X, y
    indices, _ = train_test_split(
        np.arange(len(y)), train_size=n_samples, stratify=y, random_state=seed
    )
    indices = np.sort(indices)
    return take_samples(X, indices), y[indices]


def _build_estimator(args, *, resize):
    from skcal.resnet import ResNet18Classifier

    return ResNet18Classifier(
        # Image folders are resized by the dataset itself.
        image_size=args.image_size if resize else None,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        n_threads=args.threads,
    )


def _run_study(estimator, X, y, params, scheduler):
    from skcal.seeds import seed_study

    if scheduler is None:
        return seed_study(estimator, X, y, **params)

    import joblib

    client = _connect(scheduler)
    try:
        with joblib.parallel_config(backend="dask"):
            return seed_study(estimator, X, y, **params)
    finally:
        client.close()


def _connect(address):
    try:
        from dask.distributed import Client
    except ImportError as err:
        raise ValueError(
            "--scheduler needs the dask.distributed package, which is not "
            "installed. Install it with: pip install distributed"
        ) from err
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError) as err:
        raise ValueError(
            f"Could not connect to the Dask scheduler at {address}: {err}. Check "
            "the address, or start a scheduler with `dask scheduler` and workers "
            "with `dask worker ADDRESS`."
        ) from err

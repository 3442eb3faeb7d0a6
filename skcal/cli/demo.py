"""``skcal demo``: train, calibrate and tune on real images, then report."""

import argparse

from skcal.cli._objective import add_objective_arguments, objective_from_args
from skcal.cli._types import add_network_arguments, fraction, positive_int


def register(subparsers):
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="train, calibrate and tune a ResNet18 on real images",
        description=(
            "Train a ResNet18 on a binary task built from real images, fit a "
            "temperature on a calibration hold-out, tune the decision threshold "
            "on calibrated probabilities, and compare the network before and "
            "after calibration on a test split. Prints a table and writes "
            "report.html, metrics.json, scores.png, reliability.png and "
            "threshold.png to --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset",
        choices=("digits", "fashion-mnist"),
        default="digits",
        help="digits: scikit-learn's 1,797 handwritten 8x8 digits, shipped with "
        "scikit-learn; fashion-mnist: two Fashion-MNIST classes (28x28) from "
        "--data-dir",
    )
    data.add_argument(
        "--positive-digit",
        type=int,
        default=8,
        metavar="D",
        help="digit that is the positive class of the digits task (about 10%% "
        "of the images)",
    )
    data.add_argument(
        "--classes",
        nargs=2,
        default=("t-shirt", "shirt"),
        metavar=("NEGATIVE", "POSITIVE"),
        help="the two Fashion-MNIST classes, negative first",
    )
    data.add_argument(
        "--data-dir",
        default=None,
        help="folder with the Fashion-MNIST IDX files (default: "
        "/usr/share/datasets/fashion-mnist, from the Debian package "
        "dataset-fashion-mnist)",
    )
    data.add_argument(
        "--subset",
        type=positive_int,
        default=None,
        metavar="N",
        help="use a stratified subset of N images (quick checks)",
    )
    data.add_argument(
        "--test-size",
        type=fraction,
        default=0.3,
        metavar="FRACTION",
        help="fraction of the images held out as the test split",
    )
    data.add_argument(
        "--calibration-size",
        type=fraction,
        default=0.2,
        metavar="FRACTION",
        help="fraction of the non-test images held out to fit the temperature",
    )
    data.add_argument(
        "--threshold-size",
        type=fraction,
        default=0.2,
        metavar="FRACTION",
        help="fraction of the non-test images held out to tune the threshold",
    )

    training = parser.add_argument_group("training")
    add_network_arguments(
        training,
        max_epochs=15,
        device="auto",
        threads=None,
        threads_help="torch CPU threads (default: torch's own choice)",
    )
    training.add_argument(
        "--seed", type=int, default=0,
        help="seed of the splits, the initial weights and the data order",
    )
    training.add_argument(
        "--fit-bias", action="store_true",
        help="fit a logit bias next to the temperature",
    )

    add_objective_arguments(parser)

    parser.add_argument(
        "--out", default="skcal-demo", metavar="DIR",
        help="output folder for the report and figures",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no training progress output",
    )
    parser.set_defaults(handler=run)


def run(args):
    """Run the demo with the parsed arguments and print its table."""
    from skcal.demo import run_demo

    result = run_demo(
        dataset=args.dataset,
        positive_digit=args.positive_digit,
        classes=args.classes,
        data_dir=args.data_dir,
        objective=objective_from_args(args),
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        image_size=args.image_size,
        lr=args.lr,
        test_size=args.test_size,
        calibration_size=args.calibration_size,
        threshold_size=args.threshold_size,
        n_samples=args.subset,
        fit_bias=args.fit_bias,
        device=args.device,
        n_threads=args.threads,
        random_state=args.seed,
        out=args.out,
        verbose=0 if args.quiet else 1,
    )

    info = result.info
    print()
    print(f"skcal demo: {info['task']}")
    print(
        f"{info['n_fit']} images to fit (network, calibration and threshold "
        f"hold-outs), {info['n_test']} test images, "
        f"{100 * info['test_positive_share']:.1f} % positive"
    )
    print()
    print(result.format_table())
    print()
    for name, path in result.files.items():
        print(f"{name:>12}: {path}")
    print(f"wall time: {info['wall_seconds']:.1f} s")

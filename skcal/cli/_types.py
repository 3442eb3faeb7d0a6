"""Argument types that reject invalid option values while parsing."""

import argparse


def positive_int(text):
    """Parse an integer of at least 1."""
    value = _parse(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer; use 1 or more.")
    return value


def fraction(text):
    """Parse a fraction strictly between 0 and 1."""
    value = _parse(text, float, "a number")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"{text} is not a fraction strictly between 0 and 1, such as 0.2."
        )
    return value


def probability(text):
    """Parse a number in [0, 1]."""
    value = _parse(text, float, "a number")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a number between 0 and 1.")
    return value


def _parse(text, convert, description):
    try:
        return convert(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not {description}.") from err


def non_negative_int(text):
    """Parse an integer of at least 0."""
    value = _parse(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; use 0 or more.")
    return value


def add_network_arguments(group, *, max_epochs, device, threads, threads_help):
    """Add the ResNet18 training options shared by the training commands.

    Adds ``--max-epochs``, ``--batch-size``, ``--image-size``, ``--lr``,
    ``--device`` and ``--threads`` to the argument group ``group``.
    """
    group.add_argument(
        "--max-epochs", type=positive_int, default=max_epochs, metavar="N",
        help="training epochs (passes over the training images)",
    )
    group.add_argument(
        "--batch-size", type=positive_int, default=64, metavar="N",
        help="images per optimisation step",
    )
    group.add_argument(
        "--image-size", type=positive_int, default=32, metavar="PIXELS",
        help="side length the images are resized to before the network",
    )
    group.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    group.add_argument("--device", default=device, help=_DEVICE_HELP[device])
    group.add_argument(
        "--threads", type=positive_int, default=threads, metavar="N", help=threads_help
    )


_DEVICE_HELP = {
    "auto": "torch device: auto (CUDA when available), cpu, cuda or cuda:N",
    "cpu": "torch device: cpu, auto (CUDA when available), cuda or cuda:N. CUDA "
    "runs are not bitwise reproducible",
}

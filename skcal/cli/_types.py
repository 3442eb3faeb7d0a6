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

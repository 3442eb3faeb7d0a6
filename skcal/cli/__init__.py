"""The ``skcal`` command.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to the
function that runs it. Subcommand modules import torch and the plotting stack
inside their handlers, so ``skcal --help`` returns at once.
"""

import argparse
import importlib
import sys

SUBCOMMANDS = ("demo", "seeds", "fit", "predict", "evaluate", "report")


def build_parser():
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="skcal",
        description=(
            "Calibrate a neural image classifier by temperature scaling, "
            "measure its calibration and choose its decision threshold."
        ),
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True

    for name in SUBCOMMANDS:
        importlib.import_module(f"skcal.cli.{name}").register(subparsers)
    return parser


def main(argv=None):
    """Run the ``skcal`` command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"skcal {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skcal {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0 if status is None else status


def _version():
    from skcal import __version__

    return f"skcal {__version__}"


if __name__ == "__main__":
    sys.exit(main())

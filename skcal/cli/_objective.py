"""Command-line options that choose the threshold objective."""

from skcal.cli._types import probability


def add_objective_arguments(parser):
    """Add ``--objective``, ``--cost`` and ``--min-recall`` to ``parser``."""
    group = parser.add_argument_group(
        "threshold objective",
        "What the tuned threshold maximises. --cost and --min-recall replace "
        "--objective; give at most one of the two.",
    )
    group.add_argument(
        "--objective",
        default="f1",
        help="named objective: f1, balanced_accuracy, youden, matthews, "
        "accuracy, or fbeta:BETA (for example fbeta:2)",
    )
    group.add_argument(
        "--cost",
        nargs=2,
        type=float,
        default=None,
        metavar=("FP", "FN"),
        help="minimise the expected cost per sample, with FP the cost of a "
        "false positive and FN the cost of a false negative (same unit)",
    )
    group.add_argument(
        "--min-recall",
        type=probability,
        default=None,
        metavar="R",
        help="maximise precision subject to recall >= R (a fraction in (0, 1])",
    )


def objective_from_args(args):
    """Build the objective that the parsed options describe."""
    from skcal.objectives import constrained_objective, cost_objective, resolve_objective

    if args.cost is not None and args.min_recall is not None:
        raise ValueError(
            "--cost and --min-recall were both given; each sets the objective. "
            "Pass one of them."
        )
    if args.cost is not None:
        fp_cost, fn_cost = args.cost
        return cost_objective(fp_cost=fp_cost, fn_cost=fn_cost)
    if args.min_recall is not None:
        return constrained_objective(
            maximize="precision", recall_at_least=args.min_recall
        )
    # Resolve once so that a bad name fails before any training.
    resolve_objective(args.objective)
    return args.objective

"""``skcal predict``: score images with a saved model and write a CSV file."""

from skcal.cli._types import positive_int
from skcal.cli.fit import HelpFormatter

POSITIVE_HELP = (
    "The probability column is the calibrated probability of the model's "
    "positive label, which `skcal fit` prints and manifest.json stores as "
    "pos_label."
)


def register(subparsers):
    """Add the ``predict`` subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="score images with a saved model and write predictions to a CSV file",
        description=(
            "Score every image under IMAGES (a folder, searched recursively, or a "
            "CSV file with a path column) with the model in MODEL_DIR, and write "
            "one row per image: path, probability, logit, decision. "
            + POSITIVE_HELP
            + " The logit is the network's raw output before temperature scaling; "
            "decision is the predicted label at the model's threshold. Images "
            "are resized and normalised as the model's manifest records."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="model directory from `skcal fit`")
    parser.add_argument(
        "images",
        metavar="IMAGES",
        help="folder of images (searched recursively) or CSV file with a path column",
    )
    parser.add_argument(
        "--out", default="predictions.csv", metavar="CSV",
        help="output CSV file; an existing file is overwritten",
    )
    add_inference_arguments(parser)
    parser.set_defaults(handler=run)


def add_inference_arguments(parser):
    """Add the options that ``predict`` and ``evaluate`` share."""
    group = parser.add_argument_group("inference")
    group.add_argument(
        "--batch-size", type=positive_int, default=None, metavar="N",
        help="images per forward pass (default: the batch size the model was trained with)",
    )
    group.add_argument(
        "--device", default=None,
        help="torch device: auto, cpu, cuda or cuda:N (default: the saved device "
        "when this machine has it, otherwise auto)",
    )
    group.add_argument(
        "--threads", type=positive_int, default=None, metavar="N",
        help="torch CPU threads (default: the saved setting, or torch's own choice)",
    )
    group.add_argument(
        "--num-workers", type=int, default=0, metavar="N",
        help="DataLoader worker processes that read images; 0 reads in the main process",
    )
    group.add_argument(
        "--skip-bad-images", action="store_true",
        help="leave out unreadable or corrupt image files with a warning instead "
        "of stopping with a list of them",
    )
    group.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args):
    """Score the images and write the predictions CSV."""
    from skcal.datasets import load_images

    model, manifest = load_for_inference(args)
    dataset = load_images(
        args.images,
        labeled=False,
        skip_bad_images=args.skip_bad_images,
        progress=not args.quiet,
        **preprocessing_options(manifest, args.model_dir),
    )
    scores = score_dataset(model, dataset)
    _write_predictions(args.out, dataset.names, scores)

    positive = scores["decision"] == scores["pos_label"]
    print(
        f"skcal predict: {int(positive.sum())} of {len(dataset)} images predicted "
        f"{scores['pos_label']!r} at threshold {scores['threshold']:.6g}; wrote {args.out}"
    )


def load_for_inference(args):
    """Load the model in ``args.model_dir`` with the inference options applied.

    Returns the estimator and the manifest.
    """
    from skcal.persistence import load_model, read_manifest

    manifest = read_manifest(args.model_dir)
    model = load_model(args.model_dir, device=args.device)
    network = pipeline_steps(model)["network"]

    overrides = {"num_workers": args.num_workers, "verbose": 0 if args.quiet else 1}
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.threads is not None:
        overrides["n_threads"] = args.threads
    network.set_params(**overrides)
    return model, manifest


def preprocessing_options(manifest, model_dir):
    """Return the loader options that reproduce the model's preprocessing."""
    settings = manifest.get("preprocessing")
    if not isinstance(settings, dict):
        raise ValueError(
            f"The model in {model_dir} records no image preprocessing (its manifest "
            "has no 'preprocessing' section), so images cannot be prepared as in "
            "training. Save the model with metadata={'preprocessing': "
            "dataset.preprocessing}, as `skcal fit` does."
        )
    normalize = False
    if settings.get("mean") is not None:
        normalize = (settings["mean"], settings["std"])
    image_size = settings.get("image_size")
    return {
        "image_size": None if image_size is None else tuple(image_size),
        "channels": settings["channels"],
        "normalize": normalize,
    }


def pipeline_steps(model):
    """Return the network, temperature-scaling and threshold steps of a model.

    The result maps ``"network"``, ``"calibration"`` and ``"threshold"`` to
    the fitted estimators, with ``None`` for a step the model lacks.
    """
    steps = {"network": None, "calibration": None, "threshold": None}
    step = model
    while step is not None:
        name = type(step).__name__
        if name == "FrozenEstimator":
            step = step.estimator
            continue
        if hasattr(step, "best_threshold_"):
            steps["threshold"] = step
        elif hasattr(step, "temperature_"):
            steps["calibration"] = step
        else:
            steps["network"] = step
            break
        step = step.estimator_
    return steps


def score_dataset(model, dataset):
    """Compute logits, calibrated probabilities and decisions in one network pass.

    The probability and the decision follow the formulas of the model's
    steps: ``TemperatureScalingClassifier.predict_proba`` (the sigmoid of
    ``(logit - bias_) / temperature_``) and the threshold wrapper's
    ``predict`` (positive where the score of the positive label is at least
    ``best_threshold_``). The tests check that both match the estimator's
    own methods exactly.

    Returns
    -------
    scores : dict
        ``"logit"`` (raw network output), ``"probability"`` (calibrated
        probability of the positive label), ``"decision"`` (labels),
        ``"pos_label"``, ``"threshold"`` and ``"classes"``.
    """
    import numpy as np
    from scipy.special import expit

    steps = pipeline_steps(model)
    logits = steps["network"].decision_function(dataset)
    classes = np.asarray(model.classes_)

    scaled = logits
    if steps["calibration"] is not None:
        calibration = steps["calibration"]
        scaled = (logits - calibration.bias_) / calibration.temperature_

    tuned = steps["threshold"]
    pos_label = classes[1] if tuned is None else _positive_label(tuned, classes)
    sign = 1.0 if pos_label == classes[1] else -1.0
    probability = expit(sign * scaled)
    if tuned is None:
        # The network and temperature scaling predict from the sign of the logit.
        threshold = 0.5
        positive = scaled > 0 if steps["calibration"] is not None else scaled >= 0
    else:
        threshold = float(tuned.best_threshold_)
        thresholded = sign * scaled if tuned.response_method == "decision_function" else probability
        positive = thresholded >= threshold

    negative_label = classes[0] if pos_label == classes[1] else classes[1]
    return {
        "logit": logits,
        "probability": probability,
        "decision": np.where(positive, pos_label, negative_label),
        "pos_label": pos_label,
        "threshold": threshold,
        "classes": classes,
    }


def _positive_label(tuned, classes):
    """Return the label whose score the threshold of ``tuned`` applies to."""
    if hasattr(tuned, "pos_label_"):
        return tuned.pos_label_
    # scikit-learn's TunedThresholdClassifierCV keeps it in its scorer.
    pos_label = tuned._curve_scorer._get_pos_label()
    return classes[1] if pos_label is None else pos_label


def _write_predictions(out, names, scores):
    import csv
    from pathlib import Path

    out = Path(out)
    if out.parent != Path(""):
        out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "probability", "logit", "decision"])
        # repr() of a float round-trips exactly, so the CSV keeps every bit.
        for name, probability, logit, decision in zip(
            names, scores["probability"], scores["logit"], scores["decision"]
        ):
            writer.writerow([name, repr(float(probability)), repr(float(logit)), decision])

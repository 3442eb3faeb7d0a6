"""The steps of ``skcal fit``: data splits, training with checkpoints, calibration, saving."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from skcal.cli.fit import FASHION_MNIST_PREFIX, RESUME_SETTINGS, SPLIT_FOLDERS, WORK_SUFFIX

RUN_FILE = "run.json"
HISTORY_FILE = "history.json"
PARAMS_FILE = "params.pt"
# Subfolder of the work folder with the trained network, saved as a model
# directory once training ends, so that --resume skips training.
NETWORK_DIR = "network"


# --- Output and work folders --------------------------------------------------


def prepare_work_dir(args):
    """Check MODEL_DIR and its work folder before any work, and return the work folder.

    Raises ``FileExistsError`` when MODEL_DIR exists without ``--force``, or
    when the work folder of an interrupted run exists without ``--resume``
    or ``--force``.
    """
    from skcal.persistence._atomic import check_target

    out = Path(args.out)
    work = out.with_name(out.name + WORK_SUFFIX)
    check_target(out, args.force)

    if work.is_dir() and not any(work.iterdir()):
        work.rmdir()
    if work.exists() and not args.resume:
        if not args.force:
            raise FileExistsError(
                f"{work} contains the checkpoints of an interrupted run. Pass --resume "
                "to continue it, or --force to discard it and start again."
            )
        _remove_work_dir(work)
    if args.resume and not (work / RUN_FILE).is_file():
        print(f"skcal fit: no interrupted run in {work}; training from the start")
    return work


def _remove_work_dir(work):
    if not (work / RUN_FILE).is_file() and any(work.iterdir()):
        raise FileExistsError(
            f"{work} exists but was not written by `skcal fit` (no {RUN_FILE}); it "
            "is not deleted. Move it away or choose another --out."
        )
    shutil.rmtree(work)


def record_run(work, args, n_images):
    """Write run.json, or check that a resumed run has the same settings.

    The work folder is created here, once the data have loaded, so that a
    run that fails on its data leaves no work folder behind.
    """
    settings = {name: getattr(args, name) for name in RESUME_SETTINGS if hasattr(args, name)}
    settings["data"] = _data_key(args.data)
    settings["n_images"] = n_images
    work.mkdir(parents=True, exist_ok=True)
    path = work / RUN_FILE
    if args.resume and path.is_file():
        previous = json.loads(path.read_text())
        changed = [
            f"{name}: {previous.get(name)!r} before, {value!r} now"
            for name, value in settings.items()
            if previous.get(name) != value
        ]
        if changed:
            raise ValueError(
                "--resume needs the settings of the interrupted run, but these "
                f"differ: {'; '.join(changed)}. Run with the earlier settings, or "
                "with --force instead of --resume to start again."
            )
    path.write_text(json.dumps(settings, indent=2) + "\n")


def _data_key(data):
    if data.startswith(FASHION_MNIST_PREFIX):
        return data
    return str(Path(data).resolve())


# --- Data ---------------------------------------------------------------------


def load_splits(args):
    """Load DATA and return the training, calibration and validation datasets."""
    options = {
        "image_size": args.image_size,
        "channels": args.channels,
        "normalize": not args.no_normalize,
        "skip_bad_images": args.skip_bad_images,
        "progress": not args.quiet,
    }
    if args.data.startswith(FASHION_MNIST_PREFIX):
        splits = _split(_fashion_mnist_dataset(args, options), args)
    elif _has_split_folders(Path(args.data)):
        splits = _load_split_folders(Path(args.data), options)
    else:
        from skcal.datasets import load_images

        splits = _split(load_images(args.data, labeled=True, **options), args)

    splits["train"] = splits["train"].with_augmentation(args.augment)
    return splits


def _has_split_folders(path):
    return path.is_dir() and all((path / name).is_dir() for name in SPLIT_FOLDERS)


def _load_split_folders(path, options):
    from skcal.datasets import load_image_folder

    train = load_image_folder(path / "train", **options)
    normalize = False if train.mean is None else (train.mean, train.std)
    same_as_train = dict(
        options,
        image_size=train.image_size,
        channels=train.channels,
        normalize=normalize,
        classes=train.classes,
    )
    return {
        "train": train,
        "calibration": load_image_folder(path / "calibration", **same_as_train),
        "validation": load_image_folder(path / "validation", **same_as_train),
    }


def _fashion_mnist_dataset(args, options):
    from skcal.datasets import ArrayImageDataset, load_fashion_mnist
    from skcal.datasets._transform import resolve_normalization

    classes = [name.strip() for name in args.data[len(FASHION_MNIST_PREFIX) :].split(",")]
    if len(classes) != 2 or not all(classes):
        raise ValueError(
            f"DATA {args.data!r} must name two Fashion-MNIST classes after "
            f"{FASHION_MNIST_PREFIX!r}, separated by a comma, for example "
            "fashion-mnist:shirt,t-shirt."
        )
    images, labels = load_fashion_mnist(classes, data_dir=args.data_dir, split="train")
    channels = options["channels"] or 1
    normalization = resolve_normalization(options["normalize"], channels)
    mean, std = normalization if normalization is not None else (None, None)
    return ArrayImageDataset(
        images,
        labels,
        image_size=options["image_size"] or images.shape[1:],
        channels=channels,
        mean=mean,
        std=std,
    )


def _split(dataset, args):
    from sklearn.model_selection import train_test_split

    _check_fractions(args.calibration_size, args.threshold_size)
    held_out = args.calibration_size + args.threshold_size
    indices = np.arange(len(dataset))
    train, rest = train_test_split(
        indices, test_size=held_out, stratify=dataset.targets, random_state=args.seed
    )
    calibration, validation = train_test_split(
        rest,
        test_size=args.threshold_size / held_out,
        stratify=dataset.targets[rest],
        random_state=args.seed,
    )
    return {
        "train": dataset.subset(np.sort(train)),
        "calibration": dataset.subset(np.sort(calibration)),
        "validation": dataset.subset(np.sort(validation)),
    }


def _check_fractions(calibration_size, threshold_size):
    for name, value in (("--calibration-size", calibration_size), ("--threshold-size", threshold_size)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} {value} must be a fraction strictly between 0 and 1.")
    if calibration_size + threshold_size >= 1.0:
        raise ValueError(
            f"--calibration-size {calibration_size} and --threshold-size "
            f"{threshold_size} add up to {calibration_size + threshold_size:g}, "
            "leaving no images for training; their sum must be below 1."
        )


# --- Training -----------------------------------------------------------------


def train_network(splits, args, work):
    """Train the network, or continue or reuse the interrupted run's in ``work``."""
    from skcal.persistence import load_model, save_model

    record_run(work, args, sum(len(part) for part in splits.values()))
    network_dir = work / NETWORK_DIR
    if args.resume and network_dir.is_dir():
        print(f"skcal fit: reusing the network trained by the interrupted run ({network_dir})")
        return load_model(network_dir, device=args.device)

    done = _epochs_done(work) if args.resume else 0
    remaining = args.max_epochs - done
    if remaining > 0:
        if done:
            print(f"skcal fit: resuming after epoch {done} of {args.max_epochs}")
        network = _build_network(args, work, remaining, resume=done > 0)
        network.fit(splits["train"])
    else:
        print(f"skcal fit: all {done} epochs were trained; restoring the last checkpoint")
        network = _restore_last_checkpoint(splits["train"], args, work)

    # The saved model stores the requested epoch count, no callbacks (they
    # name the work folder) and no progress output.
    network.set_params(max_epochs=args.max_epochs, callbacks=None, verbose=0)
    save_model(network, network_dir, force=True)
    return network


def _build_network(args, work, max_epochs, *, resume):
    from skorch.callbacks import Checkpoint, LoadInitState

    from skcal.resnet import ResNet18Classifier

    # Checkpoint saves with torch.save; LoadInitState reads the files back
    # through skorch, which calls torch.load with weights_only=True.
    checkpoint = Checkpoint(monitor=None, dirname=str(work), f_criterion=None)
    callbacks = [("checkpoint", checkpoint)]
    if resume:
        callbacks.append(("resume", LoadInitState(checkpoint)))
    return ResNet18Classifier(
        weights=args.weights,
        max_epochs=max_epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        early_stopping=args.patience > 0,
        validation_fraction=args.validation_fraction,
        patience=max(args.patience, 1),
        callbacks=callbacks,
        device=args.device,
        num_workers=args.num_workers,
        n_threads=args.threads,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
    )


def _epochs_done(work):
    path = work / HISTORY_FILE
    if not path.is_file():
        return 0
    return len(json.loads(path.read_text()))


def _restore_last_checkpoint(train, args, work):
    """Rebuild the network from the last epoch's checkpoint when no epoch is left."""
    import torch

    # NOTE: with early stopping, these are the weights of the last epoch, not
    # of the best one, because the run stopped before skorch restored those.
    state_dict = torch.load(work / PARAMS_FILE, map_location="cpu", weights_only=True)
    network = _build_network(args, work, args.max_epochs, resume=False)
    classes = np.unique(train.targets)
    return network._restore(classes, train.channels, state_dict, n_epochs=_epochs_done(work))


# --- Calibration, threshold and saving ------------------------------------------


def calibrate_and_tune(network, splits, objective, args):
    """Fit the temperature on the calibration split and the threshold on the validation split."""
    from sklearn.frozen import FrozenEstimator

    from skcal.temperature import TemperatureScalingClassifier
    from skcal.tuning import ExactThresholdClassifierCV

    calibration, validation = splits["calibration"], splits["validation"]
    calibrated = TemperatureScalingClassifier(FrozenEstimator(network), fit_bias=args.fit_bias)
    calibrated.fit(calibration, calibration.targets)

    model = ExactThresholdClassifierCV(
        calibrated,
        objective=objective,
        pos_label=_resolve_pos_label(args.pos_label, network.classes_),
        cv="prefit",
        refit=False,
        n_resamples=args.n_resamples,
        random_state=args.seed,
    )
    return model.fit(validation, validation.targets)


def _resolve_pos_label(text, classes):
    if text is None:
        return None
    for label in classes:
        if str(label) == text:
            return label
    raise ValueError(
        f"--pos-label {text!r} is not one of the classes "
        f"{[str(label) for label in classes]}. Pass one of them."
    )


def save_fitted_model(model, splits, args):
    """Measure the model on the validation split, save it with its report, and return a summary."""
    from skcal.cli.evaluate import compare_metrics, write_evaluation_report
    from skcal.cli.predict import pipeline_steps, score_dataset
    from skcal.persistence import save_model

    validation = splits["validation"]
    scores = score_dataset(model, validation)
    metrics = compare_metrics(validation.targets, scores)
    counts = {name: len(part) for name, part in splits.items()}
    metadata = {
        "preprocessing": splits["train"].preprocessing,
        "metrics": {"split": "validation", **metrics},
        "calibration_data": calibration_fingerprint(splits["calibration"]),
        "training": {"data": args.data, "seed": args.seed, "split_sizes": counts},
    }
    out = save_model(model, args.out, force=args.force, metadata=metadata)
    report = write_evaluation_report(
        out / "report", validation.targets, scores, metrics, f"skcal fit: {args.data} (validation split)"
    )

    calibration = pipeline_steps(model)["calibration"]
    return {
        "out": out,
        "report": report,
        "counts": counts,
        "classes": [_plain(label) for label in model.classes_],
        "pos_label": _plain(model.pos_label_),
        "epochs": pipeline_steps(model)["network"].n_epochs_,
        "temperature": calibration.temperature_,
        "bias": calibration.bias_,
        "threshold": _threshold_summary(model),
        "metrics": metrics,
    }


def calibration_fingerprint(dataset):
    """Return the SHA-256 digest of the calibration split and what it covers.

    For images read from files the digest covers the file list, one UTF-8
    line ``<path>\\t<label>\\n`` per image in split order, with paths as
    listed (relative to the folder or CSV file they were loaded from). For
    images held in memory it covers their uint8 pixels in C order, then one
    line ``<label>\\n`` per image.
    """
    digest = hashlib.sha256()
    if hasattr(dataset, "paths"):
        for name, label in zip(dataset.names, dataset.targets):
            digest.update(f"{name}\t{label}\n".encode())
        covered = "file list: one UTF-8 line '<path>\\t<label>\\n' per image, in split order"
    else:
        digest.update(np.ascontiguousarray(dataset.images).tobytes())
        for label in dataset.targets:
            digest.update(f"{label}\n".encode())
        covered = "uint8 pixels in C order, then one UTF-8 line '<label>\\n' per image"
    return {"sha256": digest.hexdigest(), "covers": covered, "n_images": len(dataset)}


def _threshold_summary(model):
    result = model.threshold_result_
    return {
        "value": float(model.best_threshold_),
        "objective": result.objective,
        "interval": None if result.threshold_interval is None else list(result.threshold_interval),
    }


def _plain(value):
    return value.item() if hasattr(value, "item") else value

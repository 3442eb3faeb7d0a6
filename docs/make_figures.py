"""Regenerate the user guide's figures and print every number the guide quotes.

Run from the repository root::

    python docs/make_figures.py            # the settings the guide quotes
    python docs/make_figures.py --quick    # fewer epochs and images, to check the script

Figures are written to ``docs/figures/`` (``--out`` changes the folder).
Every network is a ``ResNet18Classifier`` trained on the CPU with one torch
thread and a fixed ``random_state``; the classifier documents such fits as
bitwise repeatable on the same machine and software versions. The splits and
bootstrap resamples are seeded as well.

Three experiments feed the guide:

1. Digits (scikit-learn's 8x8 handwritten digits, 8 against the rest,
   upsampled to 32x32): one training run whose logits on the training,
   calibration and test splits are recorded after selected epochs
   (calibration.md, temperature-scaling.md).
2. Fashion-MNIST shirt against t-shirt/top, trained on 10 % shirts and
   deployed on 50 % shirts: temperature with and without a bias, the Bayes
   threshold, the exact threshold search and the prior-shift correction
   (temperature-scaling.md, thresholds.md).
3. A seed study on the digits task (seed-study.md).
"""

# License: BSD-3-Clause

import argparse
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skcal.datasets import load_fashion_mnist
from skcal.demo import load_demo_data
from skcal.metrics import (
    bootstrap,
    expected_calibration_error,
    log_loss,
    log_loss_decomposition,
    score_distribution_stats,
    smooth_expected_calibration_error,
)
from skcal.objectives import cost_objective
from skcal.resnet import ResNet18Classifier
from skcal.temperature import TemperatureScalingClassifier, fit_temperature
from skcal.threshold import bayes_threshold, find_threshold

FIGURE_DIR = Path(__file__).resolve().parent / "figures"
DPI = 110

# Costs of the two errors in the threshold examples: a missed positive
# costs four times as much as a false alarm.
FP_COST = 1.0
FN_COST = 4.0


@dataclass(frozen=True)
class Settings:
    """Sizes and training lengths of the three experiments."""

    digits_epochs: tuple  # epochs after which logits are recorded; the last one is max_epochs
    digits_check_epochs: int  # a separate fit of this many epochs is compared with the record
    fashion_train: tuple  # (t-shirts, shirts) in the training set
    fashion_epochs: int
    fashion_calibration: tuple  # (t-shirts, shirts) at the deployment prevalence, 50 % shirts
    fashion_calibration_prior: tuple  # (t-shirts, shirts) at the training prevalence, 10 % shirts
    fashion_test: tuple  # (t-shirts, shirts), from the Fashion-MNIST test split
    seed_runs: int
    seed_epochs: int
    n_resamples: int


FULL = Settings(
    digits_epochs=(1, 2, 3, 4, 6, 8, 10, 15, 20),
    digits_check_epochs=3,
    fashion_train=(1800, 200),
    fashion_epochs=8,
    fashion_calibration=(500, 500),
    fashion_calibration_prior=(900, 100),
    fashion_test=(1000, 1000),
    seed_runs=5,
    seed_epochs=8,
    n_resamples=1000,
)

QUICK = Settings(
    digits_epochs=(1, 2, 3),
    digits_check_epochs=2,
    fashion_train=(540, 60),
    fashion_epochs=2,
    fashion_calibration=(200, 200),
    fashion_calibration_prior=(360, 40),
    fashion_test=(300, 300),
    seed_runs=3,
    seed_epochs=2,
    n_resamples=100,
)


def main(argv=None):
    """Run the three experiments, write the figures and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs, images and resamples, to check the script")
    parser.add_argument("--out", type=Path, default=FIGURE_DIR,
                        help="folder for the PNG figures")
    parser.add_argument("--jobs", type=int, default=1,
                        help="seed-study runs trained in parallel (each with one torch thread)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = QUICK if args.quick else FULL
    start = time.perf_counter()
    print(f"settings: {'quick' if args.quick else 'full'} {settings}")

    digits = run_digits_epochs(settings, args.out)
    run_temperature(digits, settings, args.out)
    fashion = run_fashion(settings, args.out)
    run_thresholds(fashion, settings, args.out)
    run_seed_study(settings, args.out, args.jobs)

    print(f"\nwall time: {time.perf_counter() - start:.0f} s")


# ---------------------------------------------------------------------------
# Shared helpers


class LogitRecorder(Callback):
    """skorch callback that stores the network's logits on fixed images after some epochs.

    Training does not depend on ``max_epochs`` (no learning-rate schedule),
    so the logits after epoch ``k`` are those of a fit with ``max_epochs=k``.
    The recorded logits end up in ``logits_``, a dict from the epoch to a
    dict from the image set's name to its logits.
    """

    def __init__(self, images, epochs, batch_size=64):
        self.images = images
        self.epochs = epochs
        self.batch_size = batch_size

    def initialize(self):
        self.logits_ = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch in self.epochs:
            self.logits_[epoch] = {
                name: predict_logits(net.module_, images, self.batch_size)
                for name, images in self.images.items()
            }


def predict_logits(module, images, batch_size):
    """Return the logits of a (n, H, W) float32 image array in eval mode, restoring train mode."""
    was_training = module.training
    tensor = torch.from_numpy(np.ascontiguousarray(images[:, np.newaxis], dtype=np.float32))
    module.eval()
    try:
        with torch.inference_mode():
            batches = [module(chunk) for chunk in torch.split(tensor, batch_size)]
    finally:
        module.train(was_training)
    return torch.cat(batches).to(torch.float64).numpy()


def resnet(**params):
    """Return the guide's ResNet18Classifier: CPU, one thread, seed 0, Adam at 1e-3."""
    defaults = dict(batch_size=64, lr=1e-3, device="cpu", n_threads=1, random_state=0)
    return ResNet18Classifier(**{**defaults, **params})


def average_cost(y_true, y_pred):
    """Cost per sample of 0/1 predictions with the costs FP_COST and FN_COST."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    false_positives = np.sum((y_pred == 1) & (y_true == 0))
    false_negatives = np.sum((y_pred == 0) & (y_true == 1))
    return (FP_COST * false_positives + FN_COST * false_negatives) / y_true.shape[0]


def cost_at(y01, probability, threshold):
    """Cost per sample when predicting positive where ``probability >= threshold``."""
    return average_cost(y01, (probability >= threshold).astype(int))


def calibration_numbers(y01, probability):
    """Log loss, ECE (15 equal-width bins) and smooth ECE of P(positive)."""
    return {
        "log_loss": log_loss(y01, probability),
        "ece": expected_calibration_error(y01, probability, n_bins=15),
        "smooth_ece": smooth_expected_calibration_error(y01, probability),
    }


def print_header(title):
    print(f"\n== {title} ==")


def print_numbers(label, numbers):
    text = ", ".join(f"{key} {value:.4f}" for key, value in numbers.items())
    print(f"{label}: {text}")


def save(figure, out, name):
    path = out / name
    figure.savefig(path, dpi=DPI)
    print(f"wrote {path}")


# ---------------------------------------------------------------------------
# 1. Digits: logits grow with the epochs


@dataclass
class DigitsRun:
    """The digits experiment: labels of each split and logits per recorded epoch."""

    y: dict  # split name -> 0/1 labels
    logits: dict  # epoch -> split name -> logits
    model: ResNet18Classifier  # trained for the last recorded epoch
    images: dict  # split name -> images


def split_digits():
    """Split the digits 40 / 30 / 30 into training, calibration and test images, stratified."""
    X, y, _ = load_demo_data("digits", positive_digit=8)
    y = y.astype(int)
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=0.4, stratify=y, random_state=0
    )
    X_cal, X_test, y_cal, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0
    )
    images = {"train": X_train, "calibration": X_cal, "test": X_test}
    labels = {"train": y_train, "calibration": y_cal, "test": y_test}
    return images, labels


def run_digits_epochs(settings, out):
    """Train once on digits, record logits per epoch, print and plot their growth."""
    print_header("1. Digits: held-out calibration against training epochs")
    images, labels = split_digits()
    counts = {name: (len(y), int(y.sum())) for name, y in labels.items()}
    print(f"digits splits (images, positives): {counts}")

    max_epochs = settings.digits_epochs[-1]
    recorder = LogitRecorder(images, settings.digits_epochs)
    started = time.perf_counter()
    model = resnet(image_size=32, max_epochs=max_epochs,
                   callbacks=[("logit_recorder", recorder)])
    model.fit(images["train"], labels["train"])
    print(f"trained {max_epochs} epochs on {counts['train'][0]} images "
          f"in {time.perf_counter() - started:.0f} s")
    logits = dict(model.net_.callbacks_)["logit_recorder"].logits_
    run = DigitsRun(y=labels, logits=logits, model=model, images=images)

    check_recorded_logits(run, settings.digits_check_epochs)
    rows = [epoch_row(run, epoch) for epoch in settings.digits_epochs]
    for row in rows:
        print_numbers(f"epoch {row.pop('epoch'):>2}", row)
    plot_epoch_curves(settings.digits_epochs, rows, out)
    plot_epoch_scores(run, settings.digits_epochs, out)
    return run


def check_recorded_logits(run, epochs):
    """Compare the recorded logits with a separate fit of ``epochs`` epochs."""
    model = resnet(image_size=32, max_epochs=epochs).fit(run.images["train"], run.y["train"])
    separate = model.decision_function(run.images["test"])
    difference = np.max(np.abs(separate - run.logits[epochs]["test"]))
    print(f"check: max |logit difference| between a separate max_epochs={epochs} fit "
          f"and the recorded epoch {epochs}: {difference:.3g}")


def epoch_row(run, epoch):
    """Numbers of one recorded epoch: losses, ECE, logit spread and fitted temperature."""
    logits = run.logits[epoch]
    y_train, y_cal, y_test = run.y["train"], run.y["calibration"], run.y["test"]
    temperature = fit_temperature(logits["calibration"], y_cal)
    p_test = expit(logits["test"])
    p_scaled = expit(logits["test"] / temperature)
    return {
        "epoch": epoch,
        "train_log_loss": log_loss(y_train, expit(logits["train"])),
        "test_log_loss": log_loss(y_test, p_test),
        "test_log_loss_scaled": log_loss(y_test, p_scaled),
        "test_ece": expected_calibration_error(y_test, p_test, n_bins=15),
        "test_ece_scaled": expected_calibration_error(y_test, p_scaled, n_bins=15),
        "test_logit_std": float(np.std(logits["test"])),
        "test_roc_auc": roc_auc_score(y_test, logits["test"]),
        "temperature": temperature,
    }


def plot_epoch_curves(epochs, rows, out):
    import matplotlib.pyplot as plt

    def column(key):
        return [row[key] for row in rows]

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    axes[0].plot(epochs, column("train_log_loss"), "o-", label="training images")
    axes[0].plot(epochs, column("test_log_loss"), "o-", label="test images")
    axes[0].plot(epochs, column("test_log_loss_scaled"), "o--",
                 label="test images, after temperature scaling")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("log loss (nats per image)")
    axes[1].plot(epochs, column("test_ece"), "o-", label="uncalibrated")
    axes[1].plot(epochs, column("test_ece_scaled"), "o--", label="after temperature scaling")
    axes[1].set_ylabel("test ECE (15 equal-width bins)")
    axes[2].plot(epochs, column("test_logit_std"), "o-", label="std of test logits")
    axes[2].plot(epochs, column("temperature"), "s-", label="fitted temperature T")
    axes[2].set_ylabel("logit units")
    for ax in axes:
        ax.set_xlabel("training epochs")
        ax.legend(fontsize="small")
    figure.suptitle("ResNet18, digit 8 against the rest: training longer sharpens "
                    "the held-out probabilities")
    save(figure, out, "digits_epochs.png")
    plt.close(figure)


def plot_epoch_scores(run, epochs, out):
    from skcal.display import plot_score_distributions

    early, late = epochs[1], epochs[-1]
    scores = {f"after {epoch} epochs": expit(run.logits[epoch]["test"]) for epoch in (early, late)}
    figure, _ = plot_score_distributions(
        run.y["test"], scores, threshold=0.5, scale="logit", stat="density", bins=40,
        figsize=(10, 3.6),
    )
    save(figure, out, "digits_scores_by_epoch.png")
    import matplotlib.pyplot as plt

    plt.close(figure)


# ---------------------------------------------------------------------------
# 2. Temperature scaling on the digits network


def run_temperature(run, settings, out):
    """Calibrate the last digits network, show that the ranking stays and the spread shrinks."""
    print_header("2. Digits: temperature scaling of the last network")
    calibrated = TemperatureScalingClassifier(FrozenEstimator(run.model))
    calibrated.fit(run.images["calibration"], run.y["calibration"])
    print(f"temperature fitted on the calibration split: T = {calibrated.temperature_:.4f}")

    y_test = run.y["test"]
    p_raw = run.model.predict_proba(run.images["test"])[:, 1]
    p_cal = calibrated.predict_proba(run.images["test"])[:, 1]
    same_order = np.array_equal(np.argsort(p_raw, kind="stable"), np.argsort(p_cal, kind="stable"))
    print(f"test ROC AUC before {roc_auc_score(y_test, p_raw):.6f}, "
          f"after {roc_auc_score(y_test, p_cal):.6f}; same order of the test scores: {same_order}")
    for name, probability in (("uncalibrated", p_raw), ("calibrated", p_cal)):
        print_numbers(f"test {name}", calibration_numbers(y_test, probability))
        interval = bootstrap(partial(expected_calibration_error, n_bins=15), y_test, probability,
                             n_resamples=settings.n_resamples, random_state=0)
        print(f"  ECE 95% bootstrap interval ({settings.n_resamples} resamples): "
              f"[{interval.low:.4f}, {interval.high:.4f}]")

    parts = log_loss_decomposition(y_test, run.model.decision_function(run.images["test"]))
    print(f"test log loss decomposition: total {parts.total:.4f} = calibration "
          f"{parts.calibration:.4f} + refinement {parts.refinement:.4f} (T on test {parts.temperature:.4f})")
    plot_before_after(y_test, {"uncalibrated": p_raw, "temperature-scaled": p_cal},
                      out, "digits_temperature", "digit 8")


def plot_before_after(y01, scores, out, stem, positive_name):
    """Write ``<stem>_scores.png`` and ``<stem>_reliability.png`` for several score sets."""
    import matplotlib.pyplot as plt

    from skcal.display import ReliabilityDisplay, plot_score_distributions

    figure, displays = plot_score_distributions(
        y01, scores, stat="density", bins=30, figsize=(4.3 * len(scores), 3.4)
    )
    for display in displays.values():
        display.ax_.set_xlabel(f"P({positive_name})")
    save(figure, out, f"{stem}_scores.png")
    plt.close(figure)

    figure, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")
    for name, probability in scores.items():
        ReliabilityDisplay.from_predictions(y01, probability, n_bins=10, name=name, ax=ax)
    ax.set_title(f"Reliability on the test images, P({positive_name})")
    save(figure, out, f"{stem}_reliability.png")
    plt.close(figure)


# ---------------------------------------------------------------------------
# 3. Fashion-MNIST: trained on 10 % shirts, deployed on 50 % shirts


@dataclass
class FashionRun:
    """Labels (1 for shirt) and uncalibrated logits of the Fashion-MNIST network."""

    y: dict  # split name -> 0/1 labels, 1 for shirt
    logits: dict  # split name -> uncalibrated logits
    scores: dict = None  # test P(shirt) per calibration: none, temperature, temperature and bias
    temperature: float = None  # fitted together with the bias on the 50 % calibration split
    bias: float = None


def sample_classes(X, y, counts, rng):
    """Draw ``counts = (negatives, positives)`` images without replacement; return them and the rest."""
    chosen = np.concatenate([
        rng.choice(np.flatnonzero(y == label), size=count, replace=False)
        for label, count in zip((0, 1), counts)
    ])
    rng.shuffle(chosen)
    rest = np.setdiff1d(np.arange(len(y)), chosen)
    return chosen, rest


def load_fashion(settings):
    """Return the training, calibration and test images of t-shirt/top (0) against shirt (1)."""
    rng = np.random.default_rng(0)
    images, labels = {}, {}
    X, names = load_fashion_mnist(classes=("t-shirt", "shirt"), split="train")
    X, y = (X / np.float32(255.0)).astype(np.float32), (names == "shirt").astype(int)
    remaining = np.arange(len(y))
    for split in ("train", "calibration", "calibration_prior"):
        counts = getattr(settings, f"fashion_{split}")
        chosen, rest = sample_classes(X[remaining], y[remaining], counts, rng)
        images[split], labels[split] = X[remaining][chosen], y[remaining][chosen]
        remaining = remaining[rest]

    X, names = load_fashion_mnist(classes=("t-shirt", "shirt"), split="test")
    X, y = (X / np.float32(255.0)).astype(np.float32), (names == "shirt").astype(int)
    chosen, _ = sample_classes(X, y, settings.fashion_test, rng)
    images["test"], labels["test"] = X[chosen], y[chosen]
    return images, labels


def run_fashion(settings, out):
    """Train on 10 % shirts, calibrate on 50 % shirts with and without a bias."""
    print_header("3. Fashion-MNIST shirt against t-shirt/top: a shifted logit")
    images, labels = load_fashion(settings)
    for name, y in labels.items():
        print(f"fashion {name}: {len(y)} images, {y.mean():.0%} shirts")

    started = time.perf_counter()
    model = resnet(max_epochs=settings.fashion_epochs).fit(images["train"], labels["train"])
    print(f"trained {settings.fashion_epochs} epochs in {time.perf_counter() - started:.0f} s")
    logits = {name: model.decision_function(X) for name, X in images.items()}
    run = FashionRun(y=labels, logits=logits)

    y_cal, y_test = labels["calibration"], labels["test"]
    temperature_only = fit_temperature(logits["calibration"], y_cal)
    temperature, bias = fit_temperature(logits["calibration"], y_cal, fit_bias=True)
    print(f"fitted on the 50 % calibration split: T alone {temperature_only:.4f}; "
          f"T {temperature:.4f} and b {bias:.4f} together, so -b/T = {-bias / temperature:.4f}; "
          f"log prior odds ratio log(9) = {np.log(9):.4f}")
    scores = {
        "uncalibrated": expit(logits["test"]),
        "temperature": expit(logits["test"] / temperature_only),
        "temperature and bias": expit((logits["test"] - bias) / temperature),
    }
    print(f"test ROC AUC: {roc_auc_score(y_test, logits['test']):.4f}")
    for name, probability in scores.items():
        print_numbers(f"test {name}", calibration_numbers(y_test, probability))
        shirts = score_distribution_stats(y_test, probability)["positive"]
        print(f"  shirts with P(shirt) < 0.5: {shirts['share_below_threshold']:.3f}, "
              f"median P(shirt) of shirts {shirts['probability']['median']:.3f}")
    plot_before_after(y_test, scores, out, "fashion_bias", "shirt")
    run.scores, run.temperature, run.bias = scores, temperature, bias
    return run


# ---------------------------------------------------------------------------
# 4. Thresholds from calibrated probabilities and costs


def run_thresholds(run, settings, out):
    """Compare the Bayes threshold, the exact search and the prior-shift correction."""
    print_header(f"4. Fashion-MNIST: thresholds for costs fp {FP_COST:g}, fn {FN_COST:g}")
    y_cal, y_test = run.y["calibration"], run.y["test"]
    objective = cost_objective(fp_cost=FP_COST, fn_cost=FN_COST)
    bayes = bayes_threshold(FP_COST, FN_COST)
    print(f"Bayes threshold fp/(fp+fn) = {bayes:.4f}")

    calibration_scores = {
        "uncalibrated": expit(run.logits["calibration"]),
        "temperature and bias": expit((run.logits["calibration"] - run.bias) / run.temperature),
    }
    tuned = {}
    for name, probability in calibration_scores.items():
        tuned[name] = find_threshold(y_cal, probability, objective=objective,
                                     n_resamples=settings.n_resamples, random_state=0)
        low, high = tuned[name].threshold_interval
        print(f"exact search on the calibration split, {name}: threshold "
              f"{tuned[name].threshold:.4f}, 95% interval [{low:.4f}, {high:.4f}]")

    for name in calibration_scores:
        probability = run.scores[name]
        best = find_threshold(y_test, probability, objective=objective)
        print(f"test cost per image, {name}: at 0.5 {cost_at(y_test, probability, 0.5):.4f}, "
              f"at Bayes {cost_at(y_test, probability, bayes):.4f}, at the tuned threshold "
              f"{cost_at(y_test, probability, tuned[name].threshold):.4f}; lowest over all "
              f"thresholds {-best.score:.4f} at {best.threshold:.4f}")
    run_prior_shift(run, bayes)
    plot_threshold_curves(run, tuned, bayes, out)


def run_prior_shift(run, bayes):
    """Calibrate at the training prevalence and correct the threshold for the deployment one."""
    y_prior = run.y["calibration_prior"]
    temperature = fit_temperature(run.logits["calibration_prior"], y_prior)
    prevalence = float(y_prior.mean())
    deployment = float(run.y["calibration"].mean())
    corrected = bayes_threshold(FP_COST, FN_COST, prevalence=prevalence,
                                deployment_prevalence=deployment)
    probability = expit(run.logits["test"] / temperature)
    y_test = run.y["test"]
    print(f"prior shift: T {temperature:.4f} fitted at {prevalence:.0%} shirts; corrected "
          f"threshold for {deployment:.0%} shirts {corrected:.4f}; test cost per image at the "
          f"corrected threshold {cost_at(y_test, probability, corrected):.4f}, at the "
          f"uncorrected {bayes:.4f}: {cost_at(y_test, probability, bayes):.4f}")


def plot_threshold_curves(run, tuned, bayes, out):
    import matplotlib.pyplot as plt

    from skcal.display import ThresholdCurveDisplay

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained", sharey=True)
    for ax, name in zip(axes, ("temperature and bias", "uncalibrated")):
        result = tuned[name]
        ThresholdCurveDisplay.from_predictions(
            run.y["test"], run.scores[name], metric=average_cost,
            thresholds=np.linspace(0.0, 1.0, 401), threshold=result.threshold, ax=ax,
        )
        low, high = result.threshold_interval
        ax.axvspan(low, high, color="tab:blue", alpha=0.15,
                   label=f"95% bootstrap interval [{low:.3f}, {high:.3f}]")
        ax.axvline(bayes, color="black", linestyle=":",
                   label=f"Bayes threshold fp/(fp+fn) = {bayes:.2f}")
        ax.set_ylabel("test cost per image")
        ax.set_title(f"P(shirt), {name}; threshold tuned on the calibration split", fontsize=10)
        ax.legend(fontsize="small", loc="upper center")
    save(figure, out, "fashion_threshold_cost.png")
    plt.close(figure)


# ---------------------------------------------------------------------------
# 5. Seed study


def run_seed_study(settings, out, n_jobs):
    """Run ``seed_study`` on the digits task and plot the per-run thresholds."""
    print_header("5. Seed study on the digits task")
    try:
        from skcal.seeds import seed_study
    except ImportError as err:
        print(f"skipped: skcal.seeds could not be imported ({err})")
        return

    X, y, _ = load_demo_data("digits", positive_digit=8)
    # seed_study sets each run's random_state.
    estimator = resnet(image_size=32, max_epochs=settings.seed_epochs)
    result = seed_study(
        estimator, X, y, n_runs=settings.seed_runs,
        objective=cost_objective(fp_cost=FP_COST, fn_cost=FN_COST),
        n_resamples=200, n_threads=1, n_jobs=n_jobs, random_state=0,
    )
    print(result.summary())
    print(f"temperatures per run: {np.array2string(result.temperatures, precision=3)}")
    print(f"thresholds per run, uncalibrated: "
          f"{np.array2string(result.thresholds_uncalibrated, precision=3)}")
    print(f"thresholds per run, calibrated: {np.array2string(result.thresholds, precision=3)}")
    plot_seed_thresholds(result, out)


def plot_seed_thresholds(result, out):
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
    runs = np.arange(1, result.n_runs + 1)
    stages = (
        ("uncalibrated", result.thresholds_uncalibrated,
         result.threshold_intervals_uncalibrated, -0.12, "tab:orange"),
        ("calibrated", result.thresholds, result.threshold_intervals, 0.12, "tab:green"),
    )
    for name, values, intervals, offset, color in stages:
        error = np.vstack([values - intervals[:, 0], intervals[:, 1] - values])
        ax.errorbar(runs + offset, values, yerr=error, fmt="o", capsize=3, color=color,
                    label=f"{name}: tuned threshold, 95% interval")
    low, high = result.recommended_threshold_interval
    ax.axhspan(low, high, color="tab:green", alpha=0.12)
    ax.axhline(result.recommended_threshold, color="tab:green", linestyle="--",
               label=f"recommended {result.recommended_threshold:.3f} [{low:.3f}, {high:.3f}]")
    ax.set_xticks(runs)
    ax.set_xlabel("training run (seed)")
    ax.set_ylabel("threshold on P(positive)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", loc="upper right")
    ax.set_title("Tuned threshold per run, before and after temperature scaling", fontsize=10)
    save(figure, out, "seed_thresholds.png")
    plt.close(figure)


if __name__ == "__main__":
    main()

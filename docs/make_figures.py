"""Regenerate the user guide's figures and print every number the guide quotes.

Run from the repository root::

    python docs/make_figures.py            # the settings the guide quotes
    python docs/make_figures.py --quick    # fewer epochs and images, to check the script

Figures are written to ``docs/figures/`` (``--out`` changes the folder).
Every network is a ``ResNet18Classifier`` with its default optimiser (Adam,
learning rate 1e-3, batch size 64), trained on the CPU with one torch thread
and a fixed ``random_state``. The classifier documents such fits as bitwise
repeatable on the same machine and software versions. The splits and the
bootstrap resamples are seeded as well.

Three experiments feed the guide:

1. Fashion-MNIST shirt against t-shirt/top, trained on 500 images of each
   class: the network's logits on the training, calibration and test images
   are recorded after selected epochs (calibration.md), and the last network
   is calibrated (temperature-scaling.md).
2. The same task trained on 10 % shirts and deployed on 50 % shirts:
   temperature with and without a bias, the Bayes threshold, the exact
   threshold search and the prior-shift correction (temperature-scaling.md,
   thresholds.md).
3. A seed study on scikit-learn's digits, 8 against the rest (seed-study.md).
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
from skorch.callbacks import Callback

from skcal.datasets import load_fashion_mnist
from skcal.demo import load_demo_data
from skcal.metrics import (
    bootstrap,
    expected_calibration_error,
    log_loss,
    log_loss_decomposition,
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

# Fashion-MNIST classes, negative first. They also label the figures.
FASHION_NAMES = ("t-shirt/top", "shirt")


@dataclass(frozen=True)
class Settings:
    """Sizes and training lengths of the three experiments.

    Image counts are pairs (t-shirts, shirts). The training and calibration
    sets are disjoint draws from the Fashion-MNIST training split, the test
    set is drawn from its test split.
    """

    epochs: tuple  # epochs after which logits are recorded, the last being max_epochs
    check_epochs: int  # a separate fit of this many epochs is compared with the record
    balanced_train: tuple
    shifted_train: tuple  # 10 % shirts
    shifted_epochs: int
    calibration: tuple  # at the deployment prevalence, 50 % shirts
    calibration_prior: tuple  # at the training prevalence of the shifted network, 10 % shirts
    test: tuple
    seed_runs: int
    seed_epochs: int
    n_resamples: int


FULL = Settings(
    epochs=(1, 2, 3, 4, 6, 8, 10, 12, 15, 20),
    check_epochs=3,
    balanced_train=(500, 500),
    shifted_train=(1800, 200),
    shifted_epochs=8,
    calibration=(500, 500),
    calibration_prior=(900, 100),
    test=(1000, 1000),
    seed_runs=5,
    seed_epochs=8,
    n_resamples=1000,
)

QUICK = Settings(
    epochs=(1, 2, 3),
    check_epochs=2,
    balanced_train=(150, 150),
    shifted_train=(270, 30),
    shifted_epochs=2,
    calibration=(200, 200),
    calibration_prior=(360, 40),
    test=(300, 300),
    seed_runs=3,
    seed_epochs=2,
    n_resamples=100,
)


def main(argv=None):
    """Run the experiments, write the figures and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs, images and resamples, to check the script")
    parser.add_argument("--out", type=Path, default=FIGURE_DIR,
                        help="folder for the PNG figures")
    parser.add_argument("--jobs", type=int, default=1,
                        help="seed-study runs trained in parallel (each with one torch thread)")
    parser.add_argument("--only", choices=("all", "fashion", "seeds"), default="all",
                        help="run every experiment, only the Fashion-MNIST ones, or only the "
                        "seed study")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = QUICK if args.quick else FULL
    start = time.perf_counter()
    print(f"settings: {'quick' if args.quick else 'full'} {settings}")

    if args.only in ("all", "fashion"):
        run_fashion_experiments(settings, args.out)
    if args.only in ("all", "seeds"):
        run_seed_study(settings, args.out, args.jobs)

    print(f"\nwall time: {time.perf_counter() - start:.0f} s")


def run_fashion_experiments(settings, out):
    """Run sections 1 to 4, which share the Fashion-MNIST images."""
    images, labels = load_fashion(settings)
    for name, y in labels.items():
        print(f"{name}: {len(y)} images, {y.mean():.0%} shirts")
    balanced = run_epochs(images, labels, settings, out)
    run_temperature(balanced, images, labels, settings, out)
    shifted = run_shifted(images, labels, settings, out)
    run_thresholds(shifted, settings, out)


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
    """Return the cost per sample of 0/1 predictions, with the costs FP_COST and FN_COST."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    false_positives = np.sum((y_pred == 1) & (y_true == 0))
    false_negatives = np.sum((y_pred == 0) & (y_true == 1))
    return (FP_COST * false_positives + FN_COST * false_negatives) / y_true.shape[0]


def cost_at(y01, probability, threshold):
    """Return the cost per sample of predicting positive where ``probability >= threshold``."""
    return average_cost(y01, (probability >= threshold).astype(int))


def calibration_numbers(y01, probability):
    """Compute the log loss, the ECE (15 equal-width bins) and the smooth ECE of P(positive)."""
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
# Data


def sample_classes(y, counts, rng):
    """Draw indices of each class without replacement; return them and the remaining indices.

    ``counts`` is the pair (number of class 0, number of class 1).
    """
    chosen = np.concatenate([
        rng.choice(np.flatnonzero(y == label), size=count, replace=False)
        for label, count in zip((0, 1), counts)
    ])
    rng.shuffle(chosen)
    rest = np.setdiff1d(np.arange(len(y)), chosen)
    return chosen, rest


def load_split(split):
    """Return t-shirt/top (0) and shirt (1) images of a Fashion-MNIST split, scaled to [0, 1]."""
    X, names = load_fashion_mnist(classes=FASHION_NAMES, split=split)
    return (X / np.float32(255.0)).astype(np.float32), (names == "shirt").astype(int)


def load_fashion(settings):
    """Return dicts of images and 0/1 labels of the training, calibration and test sets."""
    rng = np.random.default_rng(0)
    images, labels = {}, {}
    X, y = load_split("train")
    for name in ("calibration", "calibration_prior", "balanced_train", "shifted_train"):
        chosen, rest = sample_classes(y, getattr(settings, name), rng)
        images[name], labels[name] = X[chosen], y[chosen]
        X, y = X[rest], y[rest]

    X, y = load_split("test")
    chosen, _ = sample_classes(y, settings.test, rng)
    images["test"], labels["test"] = X[chosen], y[chosen]
    return images, labels


# ---------------------------------------------------------------------------
# 1. Balanced training: logits grow with the epochs


@dataclass
class EpochRun:
    """Logits per recorded epoch of one training run, and the last network."""

    logits: dict  # epoch -> set name -> logits
    model: ResNet18Classifier  # trained for the last recorded epoch


def run_epochs(images, labels, settings, out):
    """Train once on balanced data, record logits per epoch, print and plot their growth."""
    print_header("1. Balanced training: held-out calibration against training epochs")
    recorded = {name: images[name] for name in ("balanced_train", "calibration", "test")}
    recorder = LogitRecorder(recorded, settings.epochs)
    max_epochs = settings.epochs[-1]
    started = time.perf_counter()
    model = resnet(max_epochs=max_epochs, callbacks=[("logit_recorder", recorder)])
    model.fit(images["balanced_train"], labels["balanced_train"])
    print(f"trained {max_epochs} epochs on {len(labels['balanced_train'])} images "
          f"in {time.perf_counter() - started:.0f} s")
    run = EpochRun(logits=dict(model.net_.callbacks_)["logit_recorder"].logits_, model=model)

    check_recorded_logits(run, images, labels, settings.check_epochs)
    rows = [epoch_row(run, labels, epoch) for epoch in settings.epochs]
    for row in rows:
        print_numbers(f"epoch {row['epoch']:>2}", {k: v for k, v in row.items() if k != "epoch"})
    best = min(rows, key=lambda row: row["test_log_loss"])
    print(f"lowest test log loss at epoch {best['epoch']} of those recorded: "
          f"{best['test_log_loss']:.4f}, fitted T there {best['T_alone']:.4f}")
    plot_epoch_curves(rows, out)
    plot_epoch_scores(run, labels["test"], settings.epochs, out)
    return run


def check_recorded_logits(run, images, labels, epochs):
    """Compare the recorded logits with a separate fit of ``epochs`` epochs."""
    model = resnet(max_epochs=epochs).fit(images["balanced_train"], labels["balanced_train"])
    separate = model.decision_function(images["test"])
    difference = np.max(np.abs(separate - run.logits[epochs]["test"]))
    print(f"check: max |logit difference| between a separate max_epochs={epochs} fit "
          f"and the recorded epoch {epochs}: {difference:.3g}")


def epoch_row(run, labels, epoch):
    """Numbers of one recorded epoch: losses, ECE, logit spread and the fitted calibrations."""
    logits = run.logits[epoch]
    y_cal, y_test = labels["calibration"], labels["test"]
    temperature_only = fit_temperature(logits["calibration"], y_cal)
    temperature, bias = fit_temperature(logits["calibration"], y_cal, fit_bias=True)
    p_test = expit(logits["test"])
    p_scaled = expit(logits["test"] / temperature_only)
    return {
        "epoch": epoch,
        "train_log_loss": log_loss(labels["balanced_train"], expit(logits["balanced_train"])),
        "test_log_loss": log_loss(y_test, p_test),
        "test_log_loss_T": log_loss(y_test, p_scaled),
        "test_log_loss_T_b": log_loss(y_test, expit((logits["test"] - bias) / temperature)),
        "test_ece": expected_calibration_error(y_test, p_test, n_bins=15),
        "test_ece_T": expected_calibration_error(y_test, p_scaled, n_bins=15),
        "test_logit_std": float(np.std(logits["test"])),
        "test_roc_auc": roc_auc_score(y_test, logits["test"]),
        "T_alone": temperature_only,
        "T_with_b": temperature,
        "b": bias,
    }


def plot_epoch_curves(rows, out):
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in rows]

    def plot(ax, key, style, label):
        ax.plot(epochs, [row[key] for row in rows], style, label=label)

    figure, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    plot(axes[0], "train_log_loss", "o-", "training images")
    plot(axes[0], "test_log_loss", "o-", "test images")
    plot(axes[0], "test_log_loss_T", "o--", "test images, temperature-scaled")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("log loss (nats per image)")
    plot(axes[1], "test_ece", "o-", "uncalibrated")
    plot(axes[1], "test_ece_T", "o--", "temperature-scaled")
    axes[1].set_ylabel("test ECE (15 equal-width bins)")
    plot(axes[2], "test_logit_std", "o-", "std of the test logits")
    plot(axes[2], "T_alone", "s-", "fitted temperature T")
    plot(axes[2], "b", "^:", "fitted bias b (fitted with T)")
    axes[2].axhline(0.0, color="gray", linewidth=0.5)
    axes[2].set_ylabel("logit units")
    for ax in axes:
        ax.set_xlabel("training epochs")
        ax.legend(fontsize="small")
    figure.suptitle("ResNet18, Fashion-MNIST shirt against t-shirt/top, 500 training "
                    "images per class: held-out probabilities sharpen as training goes on")
    save(figure, out, "epochs.png")
    plt.close(figure)


def plot_epoch_scores(run, y_test, epochs, out):
    import matplotlib.pyplot as plt

    from skcal.display import plot_score_distributions

    early, late = epochs[1], epochs[-1]
    scores = {f"after {epoch} epochs": expit(run.logits[epoch]["test"]) for epoch in (early, late)}
    figure, _ = plot_score_distributions(
        class_names(y_test, FASHION_NAMES), scores, pos_label=FASHION_NAMES[1],
        threshold=0.5, scale="logit", stat="density", bins=40, figsize=(10, 3.6),
    )
    save(figure, out, "scores_by_epoch.png")
    plt.close(figure)


# ---------------------------------------------------------------------------
# 2. Temperature scaling of the last balanced network


def run_temperature(run, images, labels, settings, out):
    """Calibrate the last network and show that the ranking stays while the spread shrinks."""
    print_header(f"2. Temperature scaling of the {settings.epochs[-1]}-epoch network")
    calibrated = TemperatureScalingClassifier(FrozenEstimator(run.model))
    calibrated.fit(images["calibration"], labels["calibration"])
    print(f"temperature fitted on the calibration set: T = {calibrated.temperature_:.4f}")

    y_test = labels["test"]
    p_raw = run.model.predict_proba(images["test"])[:, 1]
    p_cal = calibrated.predict_proba(images["test"])[:, 1]
    same_order = np.array_equal(np.argsort(p_raw, kind="stable"), np.argsort(p_cal, kind="stable"))
    print(f"test ROC AUC before {roc_auc_score(y_test, p_raw):.6f}, "
          f"after {roc_auc_score(y_test, p_cal):.6f}; same order of the test scores: {same_order}")
    for name, probability in (("uncalibrated", p_raw), ("temperature-scaled", p_cal)):
        print_numbers(f"test {name}", calibration_numbers(y_test, probability))
        interval = bootstrap(partial(expected_calibration_error, n_bins=15), y_test, probability,
                             n_resamples=settings.n_resamples, random_state=0)
        print(f"  ECE 95% bootstrap interval ({settings.n_resamples} resamples): "
              f"[{interval.low:.4f}, {interval.high:.4f}]")
        print_shares(y_test, probability)

    parts = log_loss_decomposition(y_test, run.model.decision_function(images["test"]))
    print(f"test log loss decomposition: total {parts.total:.4f} = calibration "
          f"{parts.calibration:.4f} + refinement {parts.refinement:.4f} "
          f"(temperature fitted on the test set {parts.temperature:.4f})")
    plot_before_after(y_test, {"uncalibrated": p_raw, "temperature-scaled": p_cal},
                      out, "temperature", FASHION_NAMES)


def print_shares(y01, probability):
    """Print how many of each class sit at the extremes and on the wrong side of 0.5."""
    shirts, tshirts = probability[y01 == 1], probability[y01 == 0]
    print(f"  shirts: P(shirt) < 0.1 for {np.mean(shirts < 0.1):.3f}, < 0.5 for "
          f"{np.mean(shirts < 0.5):.3f}, median {np.median(shirts):.3f}; t-shirts: "
          f"P(shirt) > 0.9 for {np.mean(tshirts > 0.9):.3f}, "
          f">= 0.5 for {np.mean(tshirts >= 0.5):.3f}")


def class_names(y01, names):
    """Turn 0/1 labels into ``names = (negative, positive)``, so the figures' legends read well."""
    return np.where(np.asarray(y01) == 1, names[1], names[0])


def plot_before_after(y01, scores, out, stem, names):
    """Write ``<stem>_scores.png`` and ``<stem>_reliability.png`` for several score sets."""
    import matplotlib.pyplot as plt

    from skcal.display import ReliabilityDisplay, plot_score_distributions

    labels, positive = class_names(y01, names), names[1]
    figure, _ = plot_score_distributions(
        labels, scores, pos_label=positive, stat="density", bins=30,
        figsize=(4.3 * len(scores), 3.4),
    )
    save(figure, out, f"{stem}_scores.png")
    plt.close(figure)

    # The first display creates the figure with its histogram axes underneath;
    # the others draw on the same axes.
    ax = None
    for name, probability in scores.items():
        display = ReliabilityDisplay.from_predictions(
            labels, probability, pos_label=positive, n_bins=15, name=name, ax=ax
        )
        ax = display.ax_
    display.figure_.set_size_inches(5.5, 6.5)
    ax.set_title("Test images, 15 equal-width bins, 95% Clopper-Pearson intervals", fontsize=9)
    save(display.figure_, out, f"{stem}_reliability.png")
    plt.close(display.figure_)


# ---------------------------------------------------------------------------
# 3. Trained on 10 % shirts, deployed on 50 % shirts


@dataclass
class ShiftedRun:
    """Labels (1 for shirt) and uncalibrated logits of the network trained on 10 % shirts."""

    y: dict  # set name -> 0/1 labels
    logits: dict  # set name -> uncalibrated logits
    scores: dict = None  # test P(shirt) per calibration: none, temperature, temperature and bias
    temperature: float = None  # fitted together with the bias on the 50 % calibration set
    bias: float = None


def run_shifted(images, labels, settings, out):
    """Train on 10 % shirts, calibrate on 50 % shirts with and without a bias."""
    print_header("3. Trained on 10 % shirts, deployed on 50 % shirts: a shifted logit")
    started = time.perf_counter()
    model = resnet(max_epochs=settings.shifted_epochs)
    model.fit(images["shifted_train"], labels["shifted_train"])
    print(f"trained {settings.shifted_epochs} epochs on {len(labels['shifted_train'])} images "
          f"in {time.perf_counter() - started:.0f} s")
    names = ("calibration", "calibration_prior", "test")
    run = ShiftedRun(y={name: labels[name] for name in names},
                     logits={name: model.decision_function(images[name]) for name in names})

    y_cal, y_test, logits = labels["calibration"], labels["test"], run.logits
    temperature_only = fit_temperature(logits["calibration"], y_cal)
    temperature, bias = fit_temperature(logits["calibration"], y_cal, fit_bias=True)
    print(f"fitted on the 50 % calibration set: T alone {temperature_only:.4f}; "
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
        print_shares(y_test, probability)
    plot_before_after(y_test, scores, out, "shifted", FASHION_NAMES)
    run.scores, run.temperature, run.bias = scores, temperature, bias
    return run


# ---------------------------------------------------------------------------
# 4. Thresholds from calibrated probabilities and costs


def run_thresholds(run, settings, out):
    """Compare the Bayes threshold, the exact search and the prior-shift correction."""
    print_header(f"4. Thresholds for costs fp {FP_COST:g}, fn {FN_COST:g} (network of section 3)")
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
        print(f"exact search on the calibration set, {name}: threshold "
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
        display = ThresholdCurveDisplay.from_predictions(
            run.y["test"], run.scores[name], metric=average_cost,
            thresholds=np.linspace(0.0, 1.0, 401), threshold=result.threshold, ax=ax,
        )
        display.line_.set_label("test cost per image")
        display.threshold_line_.set_label(
            f"tuned threshold {result.threshold:.3f} (test cost {display.threshold_score:.3f})"
        )
        low, high = result.threshold_interval
        ax.axvspan(low, high, color="tab:blue", alpha=0.15,
                   label=f"95% bootstrap interval [{low:.3f}, {high:.3f}]")
        ax.axvline(bayes, color="black", linestyle=":",
                   label=f"Bayes threshold fp/(fp+fn) = {bayes:.2f}")
        ax.set_ylabel("test cost per image")
        ax.set_title(f"P(shirt), {name}; threshold tuned on the calibration set", fontsize=10)
        ax.legend(fontsize="small", loc="best")
    save(figure, out, "threshold_cost.png")
    plt.close(figure)


# ---------------------------------------------------------------------------
# 5. Seed study


def run_seed_study(settings, out, n_jobs):
    """Run ``seed_study`` on the digits task, without and with a bias, and plot the thresholds."""
    print_header("5. Seed study on the digits task")
    try:
        from skcal.seeds import seed_study
    except ImportError as err:
        print(f"skipped: skcal.seeds could not be imported ({err})")
        return

    X, y, _ = load_demo_data("digits", positive_digit=8)
    # seed_study sets each run's random_state, so both studies train the same networks.
    estimator = resnet(image_size=32, max_epochs=settings.seed_epochs)
    results = {}
    for calibration in ("temperature", "temperature+bias"):
        print(f"\n-- calibration={calibration!r}")
        result = seed_study(
            estimator, X, y, n_runs=settings.seed_runs, calibration=calibration,
            objective=cost_objective(fp_cost=FP_COST, fn_cost=FN_COST),
            n_resamples=200, n_threads=1, n_jobs=n_jobs, random_state=0,
        )
        print(result.summary())
        for name in ("temperatures", "biases", "thresholds_uncalibrated", "thresholds"):
            print(f"{name} per run: {np.array2string(getattr(result, name), precision=3)}")
        results[calibration] = result
    plot_seed_thresholds(results, out)


def plot_seed_thresholds(results, out):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(results), figsize=(12, 4.6), layout="constrained",
                                sharey=True, squeeze=False)
    for ax, (calibration, result) in zip(axes[0], results.items()):
        runs = np.arange(1, result.n_runs + 1)
        stages = (
            ("uncalibrated", result.thresholds_uncalibrated,
             result.threshold_intervals_uncalibrated, -0.12, "tab:orange"),
            (calibration, result.thresholds, result.threshold_intervals, 0.12, "tab:green"),
        )
        for name, values, intervals, offset, color in stages:
            error = np.vstack([values - intervals[:, 0], intervals[:, 1] - values])
            ax.errorbar(runs + offset, values, yerr=error, fmt="o", capsize=3, color=color,
                        label=f"{name}: tuned threshold and 95% interval")
        low, high = result.recommended_threshold_interval
        ax.axhspan(low, high, color="tab:green", alpha=0.12)
        ax.axhline(result.recommended_threshold, color="tab:green", linestyle="--",
                   label=f"recommended {result.recommended_threshold:.3f}, "
                         f"interval [{low:.3f}, {high:.3f}]")
        ax.set_xticks(runs)
        ax.set_xlabel("training run")
        ax.set_ylim(0, 1)
        ax.set_title(f"calibration={calibration!r}", fontsize=10)
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    axes[0, 0].set_ylabel("threshold on P(digit 8)")
    figure.suptitle("Threshold tuned on each run's calibration split, before and after calibration")
    save(figure, out, "seed_thresholds.png")
    plt.close(figure)


if __name__ == "__main__":
    main()

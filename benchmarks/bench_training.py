"""Throughput of skcal's ResNet18Classifier against a plain PyTorch loop.

Both train and score the same network on the same image folder:

- ``skcal``: ``ResNet18Classifier(...).fit(dataset)`` and
  ``decision_function(dataset)``, the calls that ``skcal fit`` and
  ``skcal predict`` make, on an :class:`skcal.datasets.ImageDataset` loaded
  with ``load_image_folder``. Early stopping is off, so every image trains.
- ``plain``: torchvision's ``resnet18(weights=None)`` with its final layer
  replaced by ``Linear(512, 1)``, the head skcal uses. It trains with
  ``Adam(lr=1e-3, weight_decay=0)`` on ``BCEWithLogitsLoss`` for the same
  number of epochs. A ``DataLoader(shuffle=True)`` feeds it the same dataset
  with the same batch size and worker count. Scoring runs in eval mode
  under ``torch.inference_mode()``.

The folder contains ``--n-images`` RGB PNG files (scikit-learn's digits,
upscaled and tinted per class) written to a temporary folder, or to
``--data-dir`` when given. Both variants run in each round, their order
alternating between rounds so that slow drift of the machine affects both.

Each phase is timed twice: by wall-clock time and by the CPU time of this
process (``time.process_time``, summed over its threads). On a machine
shared with other jobs the wall-clock rate varies with their load, while
the CPU time counts only the work of this process, so images per CPU second
is the steadier comparison there. It leaves out DataLoader worker
processes, so compare CPU rates only with ``--num-workers 0``. The script prints the median of both
rates over the rounds, and skcal's rate divided by the plain loop's; 0.95 or
more means that skcal's wrapping costs at most 5 %.

Run: ``.venv/bin/python benchmarks/bench_training.py`` (about a minute on
one core with the defaults).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader

from skcal.datasets import load_image_folder
from skcal.resnet import ResNet18Classifier

# The two clocks of Stopwatch.lap, in its order.
CLOCKS = ("wall", "cpu")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=1024, help="images in the generated folder")
    parser.add_argument("--image-size", type=int, default=32, help="side length of the images, in pixels")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs per fit")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch")
    parser.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    # One thread by default: with several, each rate depends on how many
    # cores other jobs leave free at that moment, which swamps a 5 % effect.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of both variants")
    parser.add_argument("--data-dir", default=None, help="folder for the generated images (default: temporary)")
    return parser.parse_args()


def write_image_folder(root, n_images, size):
    """Write digits 3 and 8 as tinted RGB PNG files into root/<class>/."""
    digits = load_digits()
    tints = {"three": (1.0, 0.6, 0.3), "eight": (0.3, 0.6, 1.0)}
    indices = {name: np.flatnonzero(digits.target == digit) for name, digit in (("three", 3), ("eight", 8))}
    for count in range(n_images):
        name = "three" if count % 2 else "eight"
        index = indices[name][(count // 2) % len(indices[name])]
        gray = digits.images[index] / 16.0
        rgb = np.stack([gray * tint for tint in tints[name]], axis=-1)
        image = Image.fromarray((rgb * 255).round().astype(np.uint8)).resize((size, size))
        folder = Path(root) / name
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"{count:06d}.png")


def skcal_fit_predict(dataset, args):
    """Return the wall and CPU seconds of training and of prediction with skcal's classifier."""
    classifier = ResNet18Classifier(
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping=False,
        device="cpu",
        num_workers=args.num_workers,
        n_threads=args.threads,
        random_state=0,
    )
    clock = Stopwatch()
    classifier.fit(dataset)
    fit_seconds = clock.lap()
    classifier.decision_function(dataset)
    return fit_seconds, clock.lap()


def plain_fit_predict(dataset, args):
    """Return the wall and CPU seconds of training and of prediction with a hand-written loop."""
    torch.manual_seed(0)
    network = torchvision.models.resnet18(weights=None)
    network.fc = torch.nn.Linear(network.fc.in_features, 1)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3, weight_decay=0.0)
    loss_function = torch.nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(0)

    clock = Stopwatch()
    network.train()
    for _ in range(args.epochs):
        loader = DataLoader(
            dataset, batch_size=args.batch_size, shuffle=True,
            num_workers=args.num_workers, generator=generator,
        )
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_function(network(images).squeeze(-1), labels.float())
            loss.backward()
            optimizer.step()
    fit_seconds = clock.lap()

    network.eval()
    logits = []
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.num_workers)
    with torch.inference_mode():
        for images, _ in loader:
            logits.append(network(images).squeeze(-1))
    torch.cat(logits).numpy()
    return fit_seconds, clock.lap()


class Stopwatch:
    """Wall-clock and process CPU time since the previous lap."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self):
        """Return ``(wall seconds, CPU seconds)`` since the last lap and start a new one."""
        wall, cpu = time.perf_counter(), time.process_time()
        elapsed = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return elapsed


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.data_dir or scratch)
        write_image_folder(root, args.n_images, args.image_size)
        dataset = load_image_folder(root, channels=3, progress=False)
        print(
            f"{len(dataset)} RGB images of {args.image_size}x{args.image_size} pixels, "
            f"{args.epochs} epoch(s), batch size {args.batch_size}, "
            f"{args.num_workers} worker(s), {args.threads} thread(s), {args.rounds} rounds"
        )

        variants = {"skcal": skcal_fit_predict, "plain": plain_fit_predict}
        phases = ("fit", "predict")
        timings = {name: {(phase, clock): [] for phase in phases for clock in CLOCKS} for name in variants}
        # Warm-up: the first pass pays for lazy imports and allocator growth.
        for function in variants.values():
            function(dataset.subset(np.linspace(0, len(dataset) - 1, 2 * args.batch_size).astype(int)), args)
        for round_index in range(args.rounds):
            order = list(variants) if round_index % 2 == 0 else list(reversed(variants))
            for name in order:
                fit_seconds, predict_seconds = variants[name](dataset, args)
                for index, clock in enumerate(CLOCKS):
                    timings[name][("fit", clock)].append(len(dataset) * args.epochs / fit_seconds[index])
                    timings[name][("predict", clock)].append(len(dataset) / predict_seconds[index])
    print_table(timings)


def print_table(timings):
    print("\nimages per second of wall-clock time and per CPU second, median over rounds")
    print(f"{'':8}{'fit/wall':>11}{'fit/cpu':>11}{'predict/wall':>15}{'predict/cpu':>14}")
    for name, rates in timings.items():
        medians = [statistics.median(rates[key]) for key in rates]
        print(f"{name:8}{medians[0]:11.1f}{medians[1]:11.1f}{medians[2]:15.1f}{medians[3]:14.1f}")
    for phase, clock in timings["skcal"]:
        ours, theirs = timings["skcal"][(phase, clock)], timings["plain"][(phase, clock)]
        ratio = statistics.median(ours) / statistics.median(theirs)
        rounds = ", ".join(f"{a / b:.3f}" for a, b in zip(ours, theirs))
        print(f"skcal / plain, {phase}, {clock}: {ratio:.3f} (per round: {rounds})")


if __name__ == "__main__":
    main()

import csv
import gzip
import os
import pickle
import warnings
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader

from skcal.datasets import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ArrayImageDataset,
    ImageDataset,
    check_images,
    load_fashion_mnist,
    load_image_csv,
    load_image_folder,
    load_images,
    read_idx,
)
from skcal.exceptions import DataWarning

DIGITS = load_digits()
IMAGE_SIZE = 16


def digit_image(index, size=IMAGE_SIZE):
    """Return digit ``index`` as a uint8 grayscale image upscaled to size x size."""
    pixels = (DIGITS.images[index] * (255 / 16)).round().astype(np.uint8)
    return Image.fromarray(pixels).resize((size, size), Image.Resampling.NEAREST)


def write_digit_folder(root, classes=None, n_per_class=6):
    """Write PNG digits into root/<class>/, one subfolder per class."""
    classes = {"three": 3, "eight": 8} if classes is None else classes
    root = Path(root)
    for name, digit in classes.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        indices = np.flatnonzero(DIGITS.target == digit)[:n_per_class]
        for index in indices:
            digit_image(index).save(folder / f"{index:04d}.png")
    return root


def png_bytes():
    buffer = BytesIO()
    digit_image(0).save(buffer, format="PNG")
    return buffer.getvalue()


def quiet_folder(path, **options):
    return load_image_folder(path, progress=False, **options)


# --- Folders -------------------------------------------------------------------


def test_folder_items_and_labels(tmp_path):
    root = write_digit_folder(tmp_path)
    dataset = quiet_folder(root)

    assert len(dataset) == 12
    assert dataset.classes == ["eight", "three"]
    assert list(dataset.targets[:6]) == ["eight"] * 6
    image, label = dataset[0]
    assert image.dtype == torch.float32
    assert tuple(image.shape) == (1, IMAGE_SIZE, IMAGE_SIZE)
    assert label == 0
    assert dataset[11][1] == 1
    assert dataset.names[0] == os.path.join("eight", os.path.basename(dataset.paths[0]))


def test_folder_pixels_match_source_image(tmp_path):
    root = write_digit_folder(tmp_path)
    dataset = quiet_folder(root, normalize=False)
    index = int(os.path.basename(dataset.paths[0])[:4])
    expected = np.asarray(digit_image(index), dtype=np.float32) / 255
    np.testing.assert_array_equal(dataset[0][0][0].numpy(), expected)


def test_folder_default_normalization(tmp_path):
    root = write_digit_folder(tmp_path)
    plain = quiet_folder(root, normalize=False)[0][0]
    normalized = quiet_folder(root)[0][0]
    mean, std = np.mean(IMAGENET_MEAN), np.mean(IMAGENET_STD)
    np.testing.assert_allclose(normalized.numpy(), (plain.numpy() - mean) / std, rtol=1e-6)


def test_folder_rgb_normalization(tmp_path):
    root = write_digit_folder(tmp_path)
    dataset = quiet_folder(root, channels=3, normalize=((0.5, 0.25, 0.0), (0.5, 0.5, 1.0)))
    plain = quiet_folder(root, normalize=False)[0][0].numpy()[0]
    image = dataset[0][0].numpy()
    assert image.shape == (3, IMAGE_SIZE, IMAGE_SIZE)
    np.testing.assert_allclose(image[1], (plain - 0.25) / 0.5, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(image[2], plain, rtol=1e-6)


def test_folder_nested_images_included(tmp_path):
    root = write_digit_folder(tmp_path)
    nested = root / "three" / "batch2" / "deeper"
    nested.mkdir(parents=True)
    digit_image(0).save(nested / "extra.png")
    dataset = quiet_folder(root)
    assert len(dataset) == 13
    assert os.path.join("three", "batch2", "deeper", "extra.png") in list(dataset.names)


def test_folder_hidden_files_skipped(tmp_path):
    root = write_digit_folder(tmp_path)
    (root / "three" / ".hidden.png").write_bytes(b"not an image")
    (root / "three" / ".cache").mkdir()
    (root / "three" / ".cache" / "copy.png").write_bytes(b"not an image")
    (root / ".git").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = quiet_folder(root)
    assert len(dataset) == 12


def test_folder_non_image_file_warns(tmp_path):
    root = write_digit_folder(tmp_path)
    (root / "eight" / "notes.txt").write_text("labels checked by hand")
    with pytest.warns(DataWarning, match=r"Left out 1 file.*notes\.txt"):
        dataset = quiet_folder(root)
    assert len(dataset) == 12


def test_folder_loose_file_warns(tmp_path):
    root = write_digit_folder(tmp_path)
    digit_image(0).save(root / "unsorted.png")
    with pytest.warns(DataWarning, match="outside the class folders"):
        dataset = quiet_folder(root)
    assert len(dataset) == 12


@pytest.mark.parametrize(
    "classes, message",
    [
        ({"three": 3}, r"found 'three' \(6 images\)"),
        (
            {"one": 1, "three": 3, "eight": 8},
            r"found 'eight' \(6 images\), 'one' \(6 images\), 'three' \(6 images\)",
        ),
        ({}, "found no class subfolders"),
    ],
)
def test_folder_class_count_rejected(tmp_path, classes, message):
    write_digit_folder(tmp_path, classes)
    with pytest.raises(ValueError, match=message):
        quiet_folder(tmp_path)


def test_folder_empty_class_rejected(tmp_path):
    root = write_digit_folder(tmp_path)
    (root / "blank").mkdir()
    with pytest.raises(ValueError, match=r"'blank' \(0 images\)"):
        quiet_folder(root)


def test_folder_loose_images_named_in_error(tmp_path):
    digit_image(0).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"no class subfolders, and 1 file\(s\) outside"):
        quiet_folder(tmp_path)


def test_folder_missing_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        quiet_folder(tmp_path / "absent")


def test_folder_integer_names_become_ints(tmp_path):
    write_digit_folder(tmp_path, {"0": 3, "1": 8})
    dataset = quiet_folder(tmp_path)
    assert dataset.classes == [0, 1]
    assert dataset.targets.dtype == np.int64


# --- Bad files -----------------------------------------------------------------


def write_bad_files(root):
    """Add a corrupt, a truncated PNG and a truncated JPEG file to the class 'eight'."""
    folder = root / "eight"
    (folder / "corrupt.png").write_bytes(os.urandom(300))
    whole = png_bytes()
    (folder / "truncated.png").write_bytes(whole[: len(whole) // 2])
    jpeg = folder / "truncated.jpg"
    rgb = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(jpeg, format="JPEG")
    data = jpeg.read_bytes()
    jpeg.write_bytes(data[: len(data) // 2])
    return ["corrupt.png", "truncated.png", "truncated.jpg"]


def test_bad_files_listed_in_error(tmp_path):
    root = write_digit_folder(tmp_path)
    names = write_bad_files(root)
    with pytest.raises(ValueError, match="skip_bad_images=True") as error:
        quiet_folder(root)
    message = str(error.value)
    assert "3 of 15 image files" in message
    for name in names:
        assert name in message


@pytest.mark.parametrize("check", ["fast", "full"])
def test_check_modes_find_truncation(tmp_path, check):
    root = write_digit_folder(tmp_path)
    write_bad_files(root)
    paths = sorted(str(path) for path in (root / "eight").iterdir())
    result = check_images(paths, check=check, progress=False)
    bad = sorted(os.path.basename(path) for path, _ in result.bad)
    assert bad == ["corrupt.png", "truncated.jpg", "truncated.png"]
    assert int(result.ok.sum()) == 6


def test_bad_files_skipped_with_warning(tmp_path):
    root = write_digit_folder(tmp_path)
    write_bad_files(root)
    with pytest.warns(DataWarning, match="Skipped 3 of 15 image files"):
        dataset = quiet_folder(root, skip_bad_images=True)
    assert len(dataset) == 12
    assert not any("truncated" in path for path in dataset.paths)


def test_bad_file_list_is_capped(tmp_path):
    root = write_digit_folder(tmp_path)
    for index in range(23):
        (root / "eight" / f"broken{index:02d}.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match=r"\.\.\. and 3 more"):
        quiet_folder(root)


def test_all_of_one_class_bad_rejected(tmp_path):
    root = write_digit_folder(tmp_path, {"three": 3})
    (root / "eight").mkdir()
    (root / "eight" / "only.png").write_bytes(b"broken")
    with pytest.warns(DataWarning), pytest.raises(ValueError, match="exactly two labels"):
        quiet_folder(root, skip_bad_images=True)


def test_file_damaged_after_check_names_path(tmp_path):
    root = write_digit_folder(tmp_path)
    dataset = quiet_folder(root)
    Path(dataset.paths[2]).write_bytes(b"overwritten")
    with pytest.raises(OSError, match=str(dataset.paths[2])):
        dataset[2]


# --- Sizes, channels, augmentation ------------------------------------------------


def test_mixed_sizes_need_image_size(tmp_path):
    root = write_digit_folder(tmp_path)
    digit_image(0, size=20).save(root / "three" / "large.png")
    with pytest.raises(ValueError, match=r"2 different sizes.*--image-size"):
        quiet_folder(root)
    dataset = quiet_folder(root, image_size=24)
    assert tuple(dataset[12][0].shape) == (1, 24, 24)


def test_rgb_images_infer_three_channels(tmp_path):
    root = write_digit_folder(tmp_path)
    digit_image(0).convert("RGB").save(root / "three" / "color.png")
    dataset = quiet_folder(root)
    assert dataset.channels == 3
    assert tuple(dataset[0][0].shape) == (3, IMAGE_SIZE, IMAGE_SIZE)


def test_sixteen_bit_grayscale_scaled(tmp_path):
    root = write_digit_folder(tmp_path)
    pixels = np.full((IMAGE_SIZE, IMAGE_SIZE), 30000, dtype=np.uint16)
    Image.fromarray(pixels).save(root / "three" / "deep.png")
    dataset = quiet_folder(root, normalize=False)
    index = list(dataset.names).index(os.path.join("three", "deep.png"))
    np.testing.assert_allclose(dataset[index][0].numpy(), 30000 / 65535, rtol=1e-6)


def test_augmentation_changes_training_view_only(tmp_path):
    root = write_digit_folder(tmp_path)
    dataset = quiet_folder(root, augment=True)
    evaluation = dataset.with_augmentation(False)
    torch.manual_seed(0)
    draws = [dataset[0][0] for _ in range(10)]

    assert dataset.augment
    assert not evaluation.augment
    assert all(tuple(draw.shape) == (1, IMAGE_SIZE, IMAGE_SIZE) for draw in draws)
    assert any(not torch.equal(draw, evaluation[0][0]) for draw in draws)
    assert torch.equal(evaluation[0][0], evaluation[0][0])


def test_subset_keeps_labels_and_settings(tmp_path):
    dataset = quiet_folder(write_digit_folder(tmp_path), image_size=12)
    part = dataset.subset([11, 0])
    assert list(part.targets) == ["three", "eight"]
    assert part.classes == ["eight", "three"]
    assert part.image_size == (12, 12)
    assert torch.equal(part[0][0], dataset[11][0])
    assert part[1][1] == 0


def test_index_array_gives_subset(tmp_path):
    dataset = quiet_folder(write_digit_folder(tmp_path))
    part = dataset[np.array([1, 7])]
    assert isinstance(part, ImageDataset)
    assert list(part.targets) == ["eight", "three"]
    assert len(dataset[2:5]) == 3
    assert torch.equal(part[1][0], dataset[7][0])


def test_dataset_pickles_for_workers(tmp_path):
    dataset = quiet_folder(write_digit_folder(tmp_path))
    copy = pickle.loads(pickle.dumps(dataset))
    assert torch.equal(copy[3][0], dataset[3][0])

    serial = next(iter(DataLoader(dataset, batch_size=12)))
    parallel = next(iter(DataLoader(dataset, batch_size=12, num_workers=1)))
    assert torch.equal(serial[0], parallel[0])
    assert torch.equal(serial[1], parallel[1])


def test_lfw_faces_load_exactly(tmp_path):
    from skimage import data

    faces = data.lfw_subset()
    pixels = (faces[[0, 1, 2, 100, 101, 102]] * 255).round().astype(np.uint8)
    for index, image in enumerate(pixels):
        folder = tmp_path / ("face" if index < 3 else "non-face")
        folder.mkdir(exist_ok=True)
        Image.fromarray(image).save(folder / f"{index}.png")
    dataset = quiet_folder(tmp_path, normalize=False)
    assert dataset.classes == ["face", "non-face"]
    stacked = np.stack([dataset[i][0][0].numpy() for i in range(6)])
    np.testing.assert_array_equal(stacked, pixels.astype(np.float32) / 255)


# --- CSV -----------------------------------------------------------------------


def write_csv(path, rows, header=("path", "label")):
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_csv_relative_and_absolute_paths(tmp_path):
    root = write_digit_folder(tmp_path / "images")
    files = sorted((root / "three").iterdir())[:3] + sorted((root / "eight").iterdir())[:3]
    rows = [(os.path.relpath(path, tmp_path), 1) for path in files[:3]]
    rows += [(str(path), 0) for path in files[3:]]
    csv_path = write_csv(tmp_path / "labels.csv", rows)

    dataset = load_image_csv(csv_path, progress=False)
    assert dataset.classes == [0, 1]
    assert list(dataset.targets) == [1, 1, 1, 0, 0, 0]
    assert list(dataset.names) == [row[0] for row in rows]
    assert torch.equal(dataset[0][0], quiet_folder(root)[6][0])


def test_csv_resolves_against_its_folder(tmp_path, monkeypatch):
    root = write_digit_folder(tmp_path / "data" / "images")
    rows = [(f"images/three/{p.name}", "three") for p in sorted((root / "three").iterdir())]
    rows += [(f"images/eight/{p.name}", "eight") for p in sorted((root / "eight").iterdir())]
    csv_path = write_csv(tmp_path / "data" / "list.csv", rows)
    monkeypatch.chdir(tmp_path)
    assert len(load_images(csv_path, progress=False)) == 12


@pytest.mark.parametrize(
    "labels, expected",
    [(["0", "1"], np.int64), ([" True", "false"], np.bool_), (["cat", "dog"], np.str_)],
)
def test_csv_label_types(tmp_path, labels, expected):
    root = write_digit_folder(tmp_path)
    files = sorted((root / "three").iterdir())[:2]
    csv_path = write_csv(tmp_path / "l.csv", [(str(f), label) for f, label in zip(files, labels)])
    dataset = load_image_csv(csv_path, progress=False)
    assert dataset.targets.dtype.type is expected


def test_csv_missing_column_rejected(tmp_path):
    csv_path = write_csv(tmp_path / "l.csv", [("a.png", "x")], header=("file", "class"))
    with pytest.raises(ValueError, match="lacks the column"):
        load_image_csv(csv_path, progress=False)


def test_csv_empty_label_rejected(tmp_path):
    csv_path = write_csv(tmp_path / "l.csv", [("a.png", "x"), ("b.png", " ")])
    with pytest.raises(ValueError, match="row 3: the label cell is empty"):
        load_image_csv(csv_path, progress=False)


def test_csv_missing_file_reported(tmp_path):
    root = write_digit_folder(tmp_path)
    rows = [(str(path), "a") for path in sorted((root / "three").iterdir())]
    rows += [(str(path), "b") for path in sorted((root / "eight").iterdir())]
    rows.append(("gone.png", "b"))
    csv_path = write_csv(tmp_path / "l.csv", rows)
    with pytest.raises(ValueError, match=r"gone\.png: file not found"):
        load_image_csv(csv_path, progress=False)


def test_csv_one_label_rejected(tmp_path):
    root = write_digit_folder(tmp_path)
    rows = [(str(path), "a") for path in sorted((root / "three").iterdir())]
    csv_path = write_csv(tmp_path / "l.csv", rows)
    with pytest.raises(ValueError, match=r"exactly two labels; found 'a' \(6 images\)"):
        load_image_csv(csv_path, progress=False)


def test_unlabeled_folder_recursive(tmp_path):
    root = write_digit_folder(tmp_path)
    dataset = load_images(root, labeled=False, progress=False)
    assert len(dataset) == 12
    assert dataset.targets is None
    assert dataset[0][1] == -1


def test_expected_classes_enforced(tmp_path):
    root = write_digit_folder(tmp_path)
    with pytest.raises(ValueError, match=r"must have the labels \['cat', 'dog'\]"):
        quiet_folder(root, classes=["cat", "dog"])


# --- In-memory images ------------------------------------------------------------


def test_array_dataset_matches_file_dataset(tmp_path):
    root = write_digit_folder(tmp_path)
    files = quiet_folder(root)
    images = np.stack([np.asarray(Image.open(path)) for path in files.paths])
    arrays = ArrayImageDataset(
        images, files.targets, channels=1, mean=files.mean, std=files.std
    )
    assert torch.equal(arrays[5][0], files[5][0])
    assert arrays[5][1] == files[5][1]


def test_image_dataset_rejects_bad_channels():
    with pytest.raises(ValueError, match="channels=2"):
        ImageDataset(["a.png"], ["x"], channels=2)


# --- IDX and Fashion-MNIST --------------------------------------------------------


def idx_bytes(array):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_round_trip(tmp_path, dtype, compressed):
    array = np.arange(24).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / ("a-idx3.gz" if compressed else "a-idx3")
    content = idx_bytes(array)
    path.write_bytes(gzip.compress(content) if compressed else content)
    result = read_idx(path)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, array)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x01\x00\x08\x01", "is not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX element type 0x07"),
        (b"\x00\x00\x08\x03\x00\x00", "is truncated: its header announces 3"),
        (idx_bytes(np.zeros((4, 5), np.uint8))[:-3], r"is truncated: .*shape \(4, 5\)"),
        (idx_bytes(np.zeros(3, np.uint8)) + b"\x00", "has trailing bytes"),
    ],
)
def test_read_idx_rejects_damage(tmp_path, content, message):
    path = tmp_path / "damaged-idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 50), np.uint8)))[:40])
    with pytest.raises(ValueError, match="not a complete gzip file"):
        read_idx(path)


def write_fashion_dir(folder, prefix="train", labels=(0, 6, 6, 1, 0, 9)):
    labels = np.asarray(labels, dtype=np.uint8)
    images = np.stack([np.full((28, 28), 10 * i, np.uint8) for i in range(len(labels))])
    folder.mkdir(exist_ok=True)
    (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    return images, labels


@pytest.mark.parametrize("classes", [("shirt", "t-shirt"), ("Shirt", "T-Shirt/Top"), (6, "tshirt")])
def test_fashion_mnist_class_aliases(tmp_path, classes):
    images, _ = write_fashion_dir(tmp_path)
    X, y = load_fashion_mnist(classes, data_dir=tmp_path)
    assert list(y) == ["t-shirt/top", "shirt", "shirt", "t-shirt/top"]
    np.testing.assert_array_equal(X, images[[0, 1, 2, 4]])


def test_fashion_mnist_test_split(tmp_path):
    write_fashion_dir(tmp_path, prefix="t10k", labels=(9, 8))
    X, y = load_fashion_mnist(None, data_dir=tmp_path, split="test")
    assert X.shape == (2, 28, 28)
    assert list(y) == ["ankle boot", "bag"]


@pytest.mark.parametrize(
    "classes, message",
    [(("shirt", "hat"), "'hat' is not a Fashion-MNIST class"), (("shirt", "Shirt"), "more than once")],
)
def test_fashion_mnist_bad_classes(tmp_path, classes, message):
    write_fashion_dir(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_fashion_mnist(classes, data_dir=tmp_path)


def test_fashion_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as error:
        load_fashion_mnist(data_dir=tmp_path)
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in str(error.value)


def test_fashion_mnist_mismatched_files(tmp_path):
    write_fashion_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match="do not match"):
        load_fashion_mnist(data_dir=tmp_path)


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian package dataset-fashion-mnist not installed",
)
def test_fashion_mnist_installed_counts():
    X, y = load_fashion_mnist(("shirt", "t-shirt"))
    assert X.shape == (12000, 28, 28)
    assert X.dtype == np.uint8
    assert int((y == "shirt").sum()) == 6000
    assert int((y == "t-shirt/top").sum()) == 6000

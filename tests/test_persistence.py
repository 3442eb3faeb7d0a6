import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV

import skcal.persistence as persistence
import skcal.persistence._atomic as atomic
from skcal.exceptions import ModelFormatError
from skcal.persistence import load_model, read_manifest, save_model
from skcal.resnet import ResNet18Classifier
from skcal.temperature import TemperatureScalingClassifier
from skcal.tuning import ExactThresholdClassifierCV

DIGITS = load_digits()
X = (DIGITS.images[:180] / 16.0).astype(np.float32)
Y = np.where(DIGITS.target[:180] == 8, "eight", "other")


def make_network(**params):
    defaults = dict(max_epochs=1, batch_size=16, device="cpu", n_threads=1, random_state=0)
    defaults.update(params)
    return ResNet18Classifier(**defaults)


@pytest.fixture(scope="module")
def network():
    return make_network().fit(X[:80], Y[:80])


@pytest.fixture(scope="module")
def calibrated(network):
    return TemperatureScalingClassifier(FrozenEstimator(network)).fit(X[80:130], Y[80:130])


@pytest.fixture(scope="module")
def tuned(calibrated):
    model = ExactThresholdClassifierCV(
        calibrated,
        objective=("fbeta", {"beta": 2.0}),
        cv="prefit",
        refit=False,
        n_resamples=20,
        random_state=0,
    )
    return model.fit(X[130:], Y[130:])


@pytest.fixture
def saved(tuned, tmp_path):
    return save_model(tuned, tmp_path / "model", metadata={"preprocessing": {"channels": 1}})


def assert_same_predictions(restored, original):
    assert type(restored) is type(original)
    np.testing.assert_array_equal(restored.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), original.predict(X))
    np.testing.assert_array_equal(restored.classes_, original.classes_)


# --- Round trips ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["network", "calibrated", "tuned"])
def test_round_trip_exact(request, tmp_path, name):
    model = request.getfixturevalue(name)
    restored = load_model(save_model(model, tmp_path / name))
    assert_same_predictions(restored, model)


def test_round_trip_threshold_result(tuned, saved):
    restored = load_model(saved)
    assert restored.best_threshold_ == tuned.best_threshold_
    assert restored.pos_label_ == tuned.pos_label_
    assert restored.threshold_result_ == tuned.threshold_result_
    assert restored.objective_.name == "fbeta(beta=2)"
    assert restored.get_params()["objective"] == ("fbeta", {"beta": 2.0})


def test_round_trip_unfrozen_calibration(tmp_path):
    model = TemperatureScalingClassifier(make_network(), cv=0.3, random_state=0).fit(X[:90], Y[:90])
    restored = load_model(save_model(model, tmp_path / "model"))
    assert_same_predictions(restored, model)
    assert restored.estimator.get_params() == model.estimator.get_params()


def test_round_trip_sklearn_tuned_threshold(calibrated, tmp_path):
    model = TunedThresholdClassifierCV(
        calibrated, scoring="balanced_accuracy", cv="prefit", refit=False
    )
    model.fit(X[130:], Y[130:])
    restored = load_model(save_model(model, tmp_path / "model"))
    assert_same_predictions(restored, model)
    assert restored.best_threshold_ == model.best_threshold_


def test_sklearn_scorer_object_rejected(calibrated, tmp_path):
    from sklearn.metrics import f1_score, make_scorer

    scorer = make_scorer(f1_score, pos_label="other")
    model = TunedThresholdClassifierCV(calibrated, scoring=scorer, cv="prefit", refit=False)
    model.fit(X[130:], Y[130:])
    with pytest.raises(TypeError, match="scoring given by name"):
        save_model(model, tmp_path / "model")


@pytest.mark.parametrize(
    "classes",
    [np.array([0, 1]), np.array([3, 7], dtype=np.int32), np.array([False, True]),
     np.array(["cat", "dog"]), np.array(["a", "b"], dtype=object)],
)
def test_label_types_round_trip(network, tmp_path, classes):
    state = network.module_.state_dict()
    relabeled = make_network()._restore(classes, 1, state, n_epochs=1)
    restored = load_model(save_model(relabeled, tmp_path / "model"))
    assert restored.classes_.dtype == classes.dtype
    assert restored.classes_.tolist() == classes.tolist()
    assert type(restored.predict(X[:3])[0]) is type(relabeled.predict(X[:3])[0])


def test_manifest_sections(tuned, saved):
    manifest = read_manifest(saved)
    assert manifest["format_version"] == persistence.FORMAT_VERSION
    assert manifest["pos_label"] == "other"
    assert manifest["temperature"] == tuned.estimator_.temperature_
    assert manifest["threshold"]["value"] == tuned.best_threshold_
    assert manifest["threshold"]["objective"] == "fbeta(beta=2)"
    assert len(manifest["threshold"]["interval"]) == 2
    assert manifest["preprocessing"] == {"channels": 1}
    assert set(manifest["versions"]) >= {"skcal", "torch", "torchvision"}


def test_device_override(saved):
    restored = load_model(saved, device="cpu")
    network = restored.estimator_.estimator_.estimator
    assert network.get_params()["device"] == "cpu"


# --- No pickle -------------------------------------------------------------------


def test_saved_files_readable_by_all(saved):
    assert saved.stat().st_mode & 0o777 == 0o755
    for path in saved.iterdir():
        assert path.stat().st_mode & 0o444 == 0o444, path


def test_saved_directory_has_no_pickle(saved):
    names = sorted(path.name for path in saved.iterdir())
    assert names == ["manifest.json", "model.safetensors"]
    for path in saved.iterdir():
        content = path.read_bytes()
        assert not content.startswith(b"\x80"), f"{path} starts with a pickle protocol opcode"
        assert not content.startswith(b"PK\x03\x04"), f"{path} is a zip (torch.save) archive"

    weights = (saved / "model.safetensors").read_bytes()
    header_size = int.from_bytes(weights[:8], "little")
    header = json.loads(weights[8 : 8 + header_size])
    assert header["__metadata__"] == {"format": "skcal-model"}
    json.loads((saved / "manifest.json").read_text())


def test_load_never_unpickles(saved, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("load_model must not unpickle")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    restored = load_model(saved)
    assert restored.predict_proba(X[:2]).shape == (2, 2)


# --- Tampering -------------------------------------------------------------------


def edit_manifest(path, change):
    manifest_path = path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    change(manifest)
    manifest_path.write_text(json.dumps(manifest))


def test_unknown_version_rejected(saved):
    edit_manifest(saved, lambda manifest: manifest.update(format_version=999))
    with pytest.raises(ModelFormatError, match="format_version 999.*reads only format_version 1"):
        load_model(saved)


def test_other_format_rejected(saved):
    edit_manifest(saved, lambda manifest: manifest.update(format="pickle"))
    with pytest.raises(ModelFormatError, match="not an skcal model manifest"):
        load_model(saved)


def test_unknown_class_rejected(saved):
    def rename(manifest):
        manifest["estimator"]["class"] = "os.system"

    edit_manifest(saved, rename)
    with pytest.raises(ModelFormatError, match="class 'os.system'"):
        load_model(saved)


def test_changed_weights_rejected(saved):
    path = saved / "model.safetensors"
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ModelFormatError, match="does not match the SHA-256"):
        load_model(saved)


def test_damaged_manifest_rejected(saved):
    (saved / "manifest.json").write_text('{"format": "skcal-model", ')
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_model(saved)


def test_missing_field_rejected(saved):
    edit_manifest(saved, lambda manifest: manifest["estimator"].pop("fitted"))
    with pytest.raises(ModelFormatError, match="missing or invalid field"):
        load_model(saved)


# --- Saving rules ----------------------------------------------------------------


def test_existing_directory_needs_force(tuned, saved):
    with pytest.raises(FileExistsError, match=r"already exists\. Pass force=True \(--force"):
        save_model(tuned, saved)


def test_force_replaces_model(network, saved):
    save_model(network, saved, force=True)
    assert type(load_model(saved)) is ResNet18Classifier
    leftovers = [p.name for p in saved.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_force_keeps_foreign_directory(network, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"data")
    with pytest.raises(FileExistsError, match="not a model directory"):
        save_model(network, folder, force=True)
    assert (folder / "holiday.jpg").exists()


def test_unfitted_estimator_rejected(tmp_path):
    with pytest.raises(NotFittedError):
        save_model(make_network(), tmp_path / "model")


def test_unsupported_estimator_rejected(tmp_path):
    model = LogisticRegression().fit(X.reshape(len(X), -1), Y)
    with pytest.raises(TypeError, match="cannot save a sklearn.linear_model"):
        save_model(model, tmp_path / "model")


def test_metadata_must_be_json(network, tmp_path):
    with pytest.raises(TypeError, match="only JSON values"):
        save_model(network, tmp_path / "model", metadata={"auc": object()})
    assert not (tmp_path / "model").exists()


# --- Interrupted saves -------------------------------------------------------------


def test_failed_write_keeps_previous_model(tuned, network, saved, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.json, "dump", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_model(network, saved, force=True)
    monkeypatch.undo()

    assert_same_predictions(load_model(saved), tuned)
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_failed_rename_restores_previous_model(tuned, network, saved, monkeypatch):
    real_rename = os.rename
    calls = []

    def rename_failing_second(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_rename(source, target)

    monkeypatch.setattr(atomic, "_exchange_paths", lambda first, second: False)
    monkeypatch.setattr(atomic.os, "rename", rename_failing_second)
    with pytest.raises(OSError, match="Input/output error"):
        save_model(network, saved, force=True)
    monkeypatch.undo()

    assert_same_predictions(load_model(saved), tuned)


def test_two_rename_fallback_replaces(network, saved, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange_paths", lambda first, second: False)
    save_model(network, saved, force=True)
    assert type(load_model(saved)) is ResNet18Classifier
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_missing_model_names_leftover(saved):
    aside = saved.parent / ".model.replaced-abc123"
    os.rename(saved, aside)
    with pytest.raises(FileNotFoundError, match=r"previous model is in .*replaced-abc123"):
        load_model(saved)


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from skcal.persistence import load_model, save_model

    model = load_model(sys.argv[1])
    Path(sys.argv[3]).touch()
    while True:
        save_model(model, sys.argv[2], force=True)
    """
)


def kill_during_saves(source, target, marker, delay):
    """Start a process that saves in a loop, SIGKILL it after ``delay`` s of saving."""
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(source), str(target), str(marker)]
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, "the saving process exited early"
        assert time.monotonic() < deadline, "the saving process did not start"
        time.sleep(0.05)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_killed_save_keeps_model_loadable(tuned, saved, tmp_path):
    target = tmp_path / "target"
    save_model(tuned, target)
    kill_during_saves(saved, target, tmp_path / "started", delay=0.7)
    assert_same_predictions(load_model(target), tuned)


def test_holdout_calibration_on_image_dataset(tmp_path):
    from PIL import Image

    from skcal.datasets import load_image_folder

    for index in range(40):
        folder = tmp_path / "images" / str(Y[index])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((X[index] * 255).astype(np.uint8)).save(folder / f"{index}.png")
    dataset = load_image_folder(tmp_path / "images", progress=False)
    model = TemperatureScalingClassifier(make_network(), cv=0.3, random_state=0)
    model.fit(dataset, dataset.targets)

    restored = load_model(save_model(model, tmp_path / "model"))
    np.testing.assert_array_equal(restored.predict_proba(dataset), model.predict_proba(dataset))


def test_round_trip_composed_pipeline(tmp_path):
    from skcal.pipeline import make_calibrated_classifier

    model = make_calibrated_classifier(
        max_epochs=1, batch_size=16, n_threads=1, random_state=0
    ).fit(X, Y)

    restored = load_model(save_model(model, tmp_path / "composed"))

    assert_same_predictions(restored, model)
    assert restored.best_threshold_ == model.best_threshold_
    assert restored.estimator_.temperature_ == model.estimator_.temperature_


def find_fitted_node(node, attribute):
    """Return the manifest node whose fitted attributes include ``attribute``."""
    fitted = node.get("fitted") or {}
    if attribute in fitted:
        return fitted
    for child in (node.get("estimator"), fitted.get("estimator_")):
        if isinstance(child, dict):
            found = find_fitted_node(child, attribute)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize(
    "attribute, value, message",
    [
        ("temperature_", float("nan"), "temperature_=nan"),
        ("temperature_", -2.0, "temperature_=-2.0"),
        ("bias_", float("inf"), "bias_=inf"),
        ("best_threshold_", "abc", "best_threshold_='abc'"),
        ("best_threshold_", float("nan"), "best_threshold_=nan"),
    ],
)
def test_edited_fitted_value_rejected(saved, attribute, value, message):
    def change(manifest):
        find_fitted_node(manifest["estimator"], attribute)[attribute] = value

    edit_manifest(saved, change)

    with pytest.raises(ModelFormatError, match=message.replace("[", r"\[")):
        load_model(saved)


@pytest.mark.parametrize(
    "field, value",
    [("temperature", 0.5), ("pos_label", "zzz"), ("threshold", {"value": 0.1})],
)
def test_edited_summary_field_rejected(saved, field, value):
    def change(manifest):
        if isinstance(value, dict):
            manifest[field].update(value)
        else:
            manifest[field] = value

    edit_manifest(saved, change)

    with pytest.raises(ModelFormatError, match=f"summary field {field}"):
        load_model(saved)

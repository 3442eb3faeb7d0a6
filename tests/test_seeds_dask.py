"""A seed study on a local Dask cluster gives exactly the serial result."""

import joblib
import numpy as np
import pytest

from skcal.demo import load_demo_data
from skcal.resnet import ResNet18Classifier
from skcal.seeds import seed_study

distributed = pytest.importorskip("distributed")

N_RUNS = 2


@pytest.fixture(scope="module")
def dask_client():
    # Two worker processes on loopback, so runs execute outside this process.
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _run_study():
    X, y, _ = load_demo_data("digits", positive_digit=8)
    network = ResNet18Classifier(max_epochs=1, batch_size=32, device="cpu")
    return seed_study(
        network, X[:300], y[:300], n_runs=N_RUNS, n_resamples=20, n_threads=1,
        random_state=0,
    )


def test_dask_study_equals_serial(dask_client):
    serial = _run_study()
    with distributed.get_task_stream(dask_client) as tasks:
        with joblib.parallel_config(backend="dask"):
            distributed_result = _run_study()

    workers = {task["worker"] for task in tasks.data}
    assert workers == set(dask_client.scheduler_info()["workers"])

    for name in ("seeds", "thresholds", "thresholds_uncalibrated", "temperatures",
                 "threshold_intervals", "test_proba", "test_proba_uncalibrated"):
        np.testing.assert_array_equal(
            getattr(distributed_result, name), getattr(serial, name), err_msg=name
        )
    for column, values in serial.to_frame().items():
        if column != "fit_seconds":
            np.testing.assert_array_equal(
                distributed_result.to_frame()[column], values, err_msg=column
            )
    assert distributed_result.spread == serial.spread
    assert distributed_result.between_run_test == serial.between_run_test

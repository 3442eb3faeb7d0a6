"""Seed studies: is a model's score skew a property of the data or of the training run?

The same architecture trained twice on the same data can give held-out score
distributions skewed one way in one run and the other way in the next.
:func:`seed_study` trains several runs that differ only in their seed and,
optionally, a bootstrap resample of the training data. It calibrates each
run by temperature scaling and measures how much of the between-run spread
of the skew and of the tuned threshold remains after calibration. It also
tests whether the calibrated runs still differ beyond test-set noise, and
recommends the threshold to use in production.

Scaling out
-----------
The runs execute through ``joblib.Parallel``, so any joblib backend runs
them: processes on one machine with ``n_jobs``, or a Dask cluster through
joblib's Dask backend. Each run pins torch's CPU thread count
(``n_threads``), so the results do not depend on where the runs execute::

    import joblib
    from dask.distributed import Client
    from skcal.seeds import seed_study

    client = Client("tcp://scheduler:8786")
    with joblib.parallel_config(backend="dask", n_jobs=-1):
        result = seed_study(model, X, y, n_runs=20, n_threads=1, random_state=0)

The same backend distributes scikit-learn's own parallel loops, for example
a grid search over the calibrated, threshold-tuned pipeline. The cluster
part is skipped as a doctest because it needs a running scheduler:

>>> import joblib
>>> from sklearn.model_selection import GridSearchCV
>>> from skcal.pipeline import make_calibrated_classifier
>>> model = make_calibrated_classifier(max_epochs=5, image_size=32, n_threads=1)
>>> search = GridSearchCV(
...     model,
...     {"estimator__estimator__lr": [1e-3, 3e-4]},
...     scoring="neg_log_loss",
...     n_jobs=-1,
... )
>>> from dask.distributed import Client  # doctest: +SKIP
>>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
>>> with joblib.parallel_config(backend="dask"):  # doctest: +SKIP
...     search.fit(X, y)
"""

# License: BSD-3-Clause

from skcal.seeds._result import SPREAD_STATISTICS, SeedStudyResult
from skcal.seeds._study import seed_study

__all__ = ["SPREAD_STATISTICS", "SeedStudyResult", "seed_study"]

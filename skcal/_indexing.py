"""Row selection that works on every input skcal's estimators accept."""

import numpy as np


def take_samples(X, indices):
    """Select the samples at ``indices`` from ``X``.

    ``X`` may be a numpy array, a sparse matrix, a data frame, a list or a
    torch ``Dataset``. A dataset with a ``subset`` method (skcal's image
    datasets) selects through that method. Any other dataset is wrapped in
    ``torch.utils.data.Subset``, with the dataset's ``targets`` attribute
    copied over when it has one, so labels can still be read from the
    selection.
    """
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if hasattr(X, "shape"):
        return X[indices]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in indices]
    if hasattr(X, "subset"):
        return X.subset(indices)

    from torch.utils.data import Dataset, Subset

    if not isinstance(X, Dataset):
        raise TypeError(
            f"Cannot select samples from an object of type {type(X).__name__}; "
            "pass an array, a list or a torch Dataset."
        )
    subset = Subset(X, np.asarray(indices).tolist())
    targets = getattr(X, "targets", None)
    if targets is not None:
        subset.targets = np.asarray(targets)[indices]
    return subset

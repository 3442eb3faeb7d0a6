"""ResNet18 binary image classifier with one output logit, as a sklearn estimator."""

# License: BSD 3 clause

import copy
import inspect
import numbers
import os
import urllib.parse

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.dataset import ValidSplit
from skorch.utils import noop, to_tensor
from torch.utils.data import Dataset
from torchvision.models import ResNet18_Weights
from tqdm.auto import tqdm

from ._torch_utils import (
    ImageArrayDataset,
    RelabeledDataset,
    check_image_array,
    draw_seeds,
    image_to_tensor,
    is_int,
    is_positive_int,
    make_eval_loader,
    make_train_loader,
    resolve_device,
    seeded_torch_rng,
    torch_num_threads,
)
from ._validation import (
    check_same_length,
    check_sample_weight,
    encode_binary_target,
)
from .exceptions import InvalidParameterError, ModelFormatError

__all__ = ["ResNet18Classifier"]

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class ResNet18Classifier(ClassifierMixin, BaseEstimator):
    """Binary image classifier: torchvision's ResNet18 with one output logit.

    The network ends in a single linear unit whose output is the logit of
    the positive class, trained with the binary cross-entropy on logits
    (``torch.nn.BCEWithLogitsLoss``). Training runs through a skorch
    ``NeuralNet``, stored as ``net_``, so skorch callbacks, its epoch table
    and its early stopping apply. Unlike skorch's own binary classifier,
    any two labels are accepted and the raw logits are available from
    :meth:`decision_function`.

    Parameters
    ----------
    image_size : int or tuple of (int, int), default=None
        Height and width that the network resizes every input to, with
        bilinear interpolation inside the module. ``None`` uses the images
        at their own size. ResNet18 ends in adaptive average pooling, so any
        size of at least 1x1 runs. Upsampling small images (for example 8x8
        to 32x32) keeps more spatial detail through the five stride-2 stages.
    in_channels : int, default=None
        Number of input channels. ``None`` infers it from the training data,
        with 1 for arrays of shape (n, H, W). A value that differs from the
        data raises ``ValueError``.
    weights : str or torchvision.models.ResNet18_Weights, default=None
        ``None`` initializes the network at random. A name such as
        ``"IMAGENET1K_V1"`` or ``"DEFAULT"`` loads those pretrained weights
        from the local torch hub cache,
        ``<torch.hub.get_dir()>/checkpoints/<file name of the weights' URL>``.
        Nothing is downloaded: a missing file raises ``FileNotFoundError``
        with the expected path. With ``in_channels != 3`` the first
        convolution's kernels are averaged over the three RGB channels,
        repeated for each input channel and scaled by ``3 / in_channels``,
        so an image whose channels are equal gives the same response as its
        RGB copy. The final layer is always a new one-output linear layer.
        Inputs are used as given, so normalize them the way the weights
        were trained (ImageNet mean and standard deviation for
        ``"IMAGENET1K_V1"``).
    max_epochs : int, default=10
        Number of passes over the training data, fewer with early stopping.
    lr : float, default=1e-3
        Learning rate of the optimizer.
    batch_size : int, default=64
        Number of images per mini-batch, at least 2 because BatchNorm
        cannot normalize a single sample in training mode. When the last
        batch of an epoch would hold one image, it is merged into the batch
        before it. Prediction uses the same batch size.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
        Optimizer, by name or as a subclass of ``torch.optim.Optimizer``.
    optimizer_kwargs : dict, default=None
        Further keyword arguments for the optimizer, for example
        ``{"momentum": 0.9}`` for SGD. Set the learning rate and the weight
        decay through ``lr`` and ``weight_decay`` instead.
    weight_decay : float, default=0.0
        Weight decay passed to the optimizer. For ``"adamw"`` it replaces
        torch's default of 0.01. An optimizer class without a
        ``weight_decay`` argument is used without it, and a nonzero value
        for such a class raises ``ValueError``.
    early_stopping : bool, default=False
        Whether to hold out a stratified validation set and stop when the
        validation loss has not improved for ``patience`` epochs. The
        weights of the epoch with the lowest validation loss are restored
        at the end. ``False`` trains on all data.
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.
        The split is drawn from ``random_state``.
    patience : int, default=5
        Number of epochs without improvement of the validation loss before
        training stops, when ``early_stopping=True``.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, as instances or ``(name, callback)`` pairs.
        Each fit works on a deep copy, so the objects passed here are not
        modified. The names ``"early_stopping"`` and ``"progress_bar"`` are
        taken by the callbacks that this estimator adds itself.
    device : str or torch.device, default="auto"
        Device to train and predict on. ``"auto"`` uses CUDA when it is
        available and the CPU otherwise. ``"cuda"`` on a machine without
        CUDA raises ``ValueError``.
    num_workers : int, default=0
        Worker processes of the data loaders; 0 loads in the main process.
    n_threads : int, default=None
        When set, ``fit`` and prediction run with
        ``torch.set_num_threads(n_threads)`` and restore the previous thread
        count afterwards. The setting is process-wide while it lasts.
        ``None`` leaves torch's thread count alone.
    random_state : int, numpy.random.RandomState or None, default=None
        Seed of the initial weights, of the order of the mini-batches and
        of the validation split. The global NumPy generator is never used,
        and torch's global generator is left as it was, except that with
        ``None`` one seed is drawn from it (so ``torch.manual_seed`` also
        makes such fits repeatable).
    verbose : int, default=0
        0 prints nothing. 1 or more prints skorch's table of losses per
        epoch, the early-stopping messages and a progress bar per epoch
        and per prediction.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels, sorted. The second is the positive class.
    in_channels_ : int
        Number of input channels of the fitted network.
    n_epochs_ : int
        Number of epochs actually trained.
    net_ : skorch.NeuralNet
        The fitted skorch net, with its training history in ``net_.history``.
    module_ : torch.nn.Module
        The fitted network (``net_.module_``). Its ``state_dict()`` holds all
        parameters and BatchNorm statistics needed to rebuild the model.

    See Also
    --------
    skorch.NeuralNetBinaryClassifier : skorch's binary classifier, with
        labels fixed to 0 and 1 and no access to the logits.

    Notes
    -----
    **Reproducibility.** With the same integer ``random_state``, two fits
    on the CPU in one process produce bitwise identical logits provided
    that torch uses the same number of threads, because the order of
    floating-point sums in the CPU kernels depends on the thread count; set
    ``n_threads`` to pin it. CUDA kernels are not bitwise reproducible
    without ``torch.use_deterministic_algorithms(True)``, which this
    estimator does not set.

    **Sample weights.** The loss of a mini-batch is the mean over its
    samples of ``w_i * BCE_i``, where the weights are divided by their mean
    over the training data. Scaling all weights by a constant therefore
    changes nothing, and unit weights give the ordinary mean loss.

    **Scale-out.** Training on several devices uses skorch's Accelerate
    integration, ``skorch.hf.AccelerateMixin``: a subclass that sets the
    class attribute ``_net_class`` to a net class that mixes it in keeps
    every other part of this estimator. Prediction runs its own loop on
    the device of ``net_``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skcal.resnet import ResNet18Classifier
    >>> digits = load_digits()
    >>> X = digits.images[:40] / 16.0
    >>> y = digits.target[:40] == 8
    >>> clf = ResNet18Classifier(
    ...     max_epochs=1, batch_size=16, device="cpu", n_threads=1, random_state=0
    ... )
    >>> clf.fit(X, y).classes_
    array([False,  True])
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> clf.decision_function(X[:3]).dtype
    dtype('float64')
    """

    def __init__(
        self,
        *,
        image_size=None,
        in_channels=None,
        weights=None,
        max_epochs=10,
        lr=1e-3,
        batch_size=64,
        optimizer="adam",
        optimizer_kwargs=None,
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        callbacks=None,
        device="auto",
        num_workers=0,
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.image_size = image_size
        self.in_channels = in_channels
        self.weights = weights
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.optimizer_kwargs = optimizer_kwargs
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.num_workers = num_workers
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # Net class used for training. A subclass may mix in
    # skorch.hf.AccelerateMixin here for multi-device training.
    _net_class = None

    def fit(self, X, y=None, sample_weight=None):
        """Train a new network on images ``X`` with labels ``y``.

        Every call starts from freshly initialized (or freshly loaded
        pretrained) weights, so repeated fits and clones are independent.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or torch Dataset
            Images as ``uint8`` (divided by 255) or any floating dtype (cast
            to float32). A ``torch.utils.data.Dataset`` must return
            ``(image, label)`` items with a float32 image tensor of shape
            (C, H, W). Its labels are taken from ``y``, or from the dataset's
            ``targets`` attribute when ``y`` is None.
        y : array-like of shape (n,), default=None
            Labels with exactly two distinct values. Required unless ``X`` is
            a dataset with a ``targets`` attribute.
        sample_weight : array-like of shape (n,), default=None
            Non-negative weights of the samples in the loss; see Notes.

        Returns
        -------
        self : ResNet18Classifier
            The fitted classifier.
        """
        self._check_params()
        device = resolve_device(self.device)

        with torch_num_threads(self.n_threads):
            dataset, y01, classes, in_channels = self._training_data(
                X, y, sample_weight
            )
            init_seed, shuffle_seed, split_seed = draw_seeds(self.random_state, 3)
            module = _build_module(
                in_channels, self.weights, self._image_size(), init_seed
            )
            net = self._build_net(module, device, shuffle_seed, split_seed)
            net.fit(dataset, y01)

        self.classes_ = classes
        self.in_channels_ = in_channels
        self.net_ = net
        self.n_epochs_ = len(net.history)
        return self

    def decision_function(self, X):
        """Compute the logit of the positive class for each image.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or torch Dataset
            Images in the same form as for :meth:`fit`. Labels are ignored.

        Returns
        -------
        logits : ndarray of shape (n,), dtype=float64
            Log-odds of ``classes_[1]``.
        """
        check_is_fitted(self)
        return self._predict_logits(X)

    def predict_proba(self, X):
        """Compute class probabilities, the sigmoid of the logits.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or torch Dataset
            Images in the same form as for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n, 2), dtype=float64
            Probabilities of ``classes_[0]`` and ``classes_[1]``. Each column
            is computed as ``expit`` of plus or minus the logit, which keeps
            small probabilities accurate in both columns.
        """
        check_is_fitted(self)
        logits = self._predict_logits(X)
        return np.column_stack([expit(-logits), expit(logits)])

    def predict(self, X):
        """Predict ``classes_[1]`` where the logit is at least 0, else ``classes_[0]``.

        A logit of at least 0 is a probability of at least 0.5. The two
        rules differ only for negative logits above about -5e-16, whose
        sigmoid rounds to exactly 0.5 in float64 while the prediction is
        ``classes_[0]``.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or torch Dataset
            Images in the same form as for :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n,)
            Predicted labels, taken from ``classes_``.
        """
        check_is_fitted(self)
        logits = self._predict_logits(X)
        return self.classes_[(logits >= 0).astype(np.intp)]

    @property
    def module_(self):
        """The fitted ``torch.nn.Module``, ``net_.module_``."""
        check_is_fitted(self)
        return self.net_.module_

    def _restore(self, classes, in_channels, state_dict, *, n_epochs=None):
        """Make this estimator fitted from saved parameters, without training.

        Used by model persistence. The network is built from the current
        constructor parameters (``image_size`` must match the saved model)
        and ``state_dict`` is loaded into it strictly, so the restored
        logits equal the saved model's exactly on the same device and
        thread count. The ``weights`` file is not read.

        Parameters
        ----------
        classes : array-like of shape (2,)
            The fitted ``classes_``, sorted.
        in_channels : int
            The fitted ``in_channels_``.
        state_dict : dict of str to torch.Tensor
            The output of ``module_.state_dict()``.
        n_epochs : int, default=None
            Stored as ``n_epochs_``; ``None`` where it was not saved.

        Returns
        -------
        self : ResNet18Classifier
            The fitted classifier.
        """
        self._check_params()
        classes = _check_saved_classes(classes)
        if not is_positive_int(in_channels):
            raise ModelFormatError(
                f"in_channels={in_channels!r} is invalid. Expected a positive int."
            )

        module = _build_module(int(in_channels), None, self._image_size(), seed=0)
        try:
            module.load_state_dict(state_dict, strict=True)
        except RuntimeError as err:
            raise ModelFormatError(
                "The saved parameters do not fit a ResNet18Classifier network with "
                f"in_channels={in_channels}: {err}"
            ) from err

        net = self._build_net(module, resolve_device(self.device), 0, 0)
        net.initialize()

        self.classes_ = classes
        self.in_channels_ = int(in_channels)
        self.net_ = net
        self.n_epochs_ = n_epochs
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.classifier_tags.multi_class = False
        tags.non_deterministic = self.random_state is None
        return tags

    def _check_params(self):
        """Raise ``InvalidParameterError`` listing every invalid parameter."""
        problems = [
            f"{name}={getattr(self, name)!r} (expected {expected})"
            for name, is_valid, expected in _PARAMETER_RULES
            if not is_valid(getattr(self, name))
        ]
        for key in ("lr", "weight_decay"):
            if isinstance(self.optimizer_kwargs, dict) and key in self.optimizer_kwargs:
                problems.append(
                    f"optimizer_kwargs contains {key!r} (set it with the "
                    f"{key} parameter instead)"
                )
        if problems:
            raise InvalidParameterError(
                "Invalid parameters for ResNet18Classifier: "
                + "; ".join(problems)
                + "."
            )

    def _image_size(self):
        if self.image_size is None:
            return None
        if is_int(self.image_size):
            return (int(self.image_size), int(self.image_size))
        return tuple(int(size) for size in self.image_size)

    def _training_data(self, X, y, sample_weight):
        """Validate the training data and wrap it as a dataset of (image, target)."""
        if isinstance(X, Dataset):
            images = X
            labels = _dataset_labels(X) if y is None else y
            in_channels = _dataset_channels(X)
        else:
            if y is None:
                raise ValueError(
                    "y is required when X is an array. Pass the labels, or pass a "
                    "torch Dataset with a 'targets' attribute as X."
                )
            images = check_image_array(X)
            labels = y
            in_channels = images.shape[1]

        check_same_length(images, labels, names=("X", "y"))
        y01, classes, _ = encode_binary_target(labels)
        weights = check_sample_weight(sample_weight, len(y01))
        weights = weights / weights.mean()
        self._check_in_channels(in_channels)
        if self.early_stopping:
            self._check_validation_split(y01)

        if isinstance(images, Dataset):
            dataset = RelabeledDataset(images, y01, weights)
        else:
            dataset = ImageArrayDataset(images, y01, weights)
        return dataset, y01, classes, in_channels

    def _check_in_channels(self, in_channels):
        if self.in_channels is not None and self.in_channels != in_channels:
            raise ValueError(
                f"in_channels={self.in_channels} but X has {in_channels} channel(s). "
                "Pass in_channels=None to infer it, or pass images with "
                f"{self.in_channels} channels."
            )

    def _check_validation_split(self, y01):
        """Reject data too small for a stratified validation split."""
        n_samples = y01.shape[0]
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        n_minority = int(min(y01.sum(), n_samples - y01.sum()))
        if n_valid < 2 or n_samples - n_valid < 2 or n_minority < 2:
            raise ValueError(
                f"early_stopping=True with validation_fraction="
                f"{self.validation_fraction} cannot split {n_samples} samples "
                f"({n_minority} in the smaller class): the stratified split needs at "
                "least 2 samples in each class, and at least 2 samples in each of "
                "the training and validation sets. Pass early_stopping=False, a "
                "larger validation_fraction, or more samples."
            )

    def _build_net(self, module, device, shuffle_seed, split_seed):
        """Build the skorch net that trains ``module``."""
        optimizer = _OPTIMIZERS.get(self.optimizer, self.optimizer)
        optimizer_params = {
            f"optimizer__{key}": value
            for key, value in (self.optimizer_kwargs or {}).items()
        }
        if _accepts_weight_decay(optimizer):
            optimizer_params["optimizer__weight_decay"] = self.weight_decay
        elif self.weight_decay != 0:
            raise ValueError(
                f"weight_decay={self.weight_decay!r} but the optimizer "
                f"{optimizer.__name__} has no weight_decay argument. Pass "
                "weight_decay=0.0 or an optimizer that supports weight decay."
            )
        train_split = None
        if self.early_stopping:
            train_split = ValidSplit(
                cv=float(self.validation_fraction),
                stratified=True,
                random_state=split_seed,
            )

        net_class = self._net_class or _BinaryLogitNet
        return net_class(
            module=module,
            criterion=torch.nn.BCEWithLogitsLoss,
            criterion__reduction="none",
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=make_train_loader,
            iterator_train__seed=shuffle_seed,
            iterator_train__num_workers=self.num_workers,
            iterator_valid=make_eval_loader,
            iterator_valid__num_workers=self.num_workers,
            train_split=train_split,
            callbacks=self._callbacks(),
            device=str(device),
            verbose=int(self.verbose),
            **optimizer_params,
        )

    def _callbacks(self):
        callbacks = list(copy.deepcopy(self.callbacks or []))
        if self.early_stopping:
            stopper = EarlyStopping(
                monitor="valid_loss",
                patience=self.patience,
                load_best=True,
                sink=print if self.verbose else noop,
            )
            callbacks.append(("early_stopping", stopper))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _prediction_data(self, X):
        if isinstance(X, Dataset):
            in_channels = _dataset_channels(X)
            dataset = RelabeledDataset(X)
        else:
            images = check_image_array(X)
            in_channels = images.shape[1]
            dataset = ImageArrayDataset(images)

        if in_channels != self.in_channels_:
            raise ValueError(
                f"X has {in_channels} channel(s), but the classifier was fitted on "
                f"{self.in_channels_}. Pass images with {self.in_channels_} channel(s)."
            )
        return dataset

    def _predict_logits(self, X):
        """Run the network in eval mode without gradients, then restore its modes."""
        dataset = self._prediction_data(X)
        module = self.net_.module_
        device = torch.device(self.net_.device)
        loader = make_eval_loader(dataset, self.batch_size, self.num_workers)
        batches = tqdm(loader, desc="predict", leave=False, disable=self.verbose < 1)

        submodules = list(module.modules())
        training_modes = [submodule.training for submodule in submodules]
        logits = []
        with torch_num_threads(self.n_threads):
            try:
                module.eval()
                with torch.inference_mode():
                    for images, _ in batches:
                        # NOTE: only CPU prediction is tested, CUDA has not been run.
                        output = module(images.to(device))
                        logits.append(output.to("cpu", torch.float64))
            finally:
                for submodule, training in zip(submodules, training_modes):
                    submodule.training = training

        return torch.cat(logits).numpy()


class _ResNet18Logit(torch.nn.Module):
    """torchvision ResNet18 that can resize its input, with one logit per image."""

    def __init__(self, backbone, image_size=None):
        super().__init__()
        self.backbone = backbone
        self.image_size = image_size

    def forward(self, images):
        if self.image_size is not None and tuple(images.shape[-2:]) != self.image_size:
            images = F.interpolate(
                images,
                size=self.image_size,
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        return self.backbone(images).squeeze(-1)


class _BinaryLogitNet(NeuralNet):
    """skorch net whose loss is the sample-weighted mean binary cross-entropy.

    Batches carry their targets as a dict of ``"label"`` and ``"weight"``
    tensors, and the criterion returns one loss per sample.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        losses = self.criterion_(y_pred, y_true["label"])
        return (losses * y_true["weight"]).mean()


def _build_module(in_channels, weights, image_size, seed):
    """Build the network: ResNet18, first convolution adapted, one-output head."""
    with seeded_torch_rng(seed):
        backbone = torchvision.models.resnet18(weights=None)
        if weights is not None:
            backbone.load_state_dict(_load_cached_weights(weights))
        if in_channels != 3:
            backbone.conv1 = _adapt_first_conv(
                backbone.conv1, in_channels, pretrained=weights is not None
            )
        backbone.fc = torch.nn.Linear(backbone.fc.in_features, 1)

    return _ResNet18Logit(backbone, image_size)


def _adapt_first_conv(conv, in_channels, *, pretrained):
    """Return a copy of ``conv`` that takes ``in_channels`` input channels."""
    new_conv = torch.nn.Conv2d(
        in_channels,
        conv.out_channels,
        kernel_size=conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        bias=conv.bias is not None,
    )
    with torch.no_grad():
        if pretrained:
            mean_kernel = conv.weight.mean(dim=1, keepdim=True)
            scale = conv.in_channels / in_channels
            new_conv.weight.copy_(mean_kernel.expand_as(new_conv.weight) * scale)
        else:
            # The initialization torchvision's ResNet applies to its convolutions.
            torch.nn.init.kaiming_normal_(
                new_conv.weight, mode="fan_out", nonlinearity="relu"
            )
    return new_conv


def _load_cached_weights(weights):
    """Load pretrained ResNet18 weights from the local torch hub cache only."""
    entry = _resolve_weights(weights)
    file_name = os.path.basename(urllib.parse.urlparse(entry.url).path)
    path = os.path.join(torch.hub.get_dir(), "checkpoints", file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Pretrained weights {entry} not found at {path}. skcal does not "
            f"download weights: download {entry.url} on a machine with internet "
            f"access and copy it to {path}, or set TORCH_HOME to a folder that "
            f"contains hub/checkpoints/{file_name}."
        )
    return torch.load(path, map_location="cpu", weights_only=True)


def _resolve_weights(weights):
    if isinstance(weights, ResNet18_Weights):
        return weights
    try:
        return ResNet18_Weights[weights]
    except KeyError as err:
        raise ValueError(
            f"weights={weights!r} is not a ResNet18 weights name. Pass None for "
            f"random initialization or one of {list(ResNet18_Weights.__members__)}."
        ) from err


def _accepts_weight_decay(optimizer):
    try:
        parameters = inspect.signature(optimizer).parameters
    except (TypeError, ValueError):
        return True
    return "weight_decay" in parameters


def _dataset_labels(dataset):
    targets = getattr(dataset, "targets", None)
    if targets is None:
        raise ValueError(
            f"y is None and the dataset {type(dataset).__name__} has no 'targets' "
            "attribute. Pass the labels as y, or give the dataset a 'targets' "
            "attribute with one label per item."
        )
    if isinstance(targets, torch.Tensor):
        targets = targets.cpu().numpy()
    return np.asarray(targets)


def _dataset_channels(dataset):
    """Return the channel count of the dataset's first image, checking its shape."""
    if len(dataset) == 0:
        raise ValueError("X is an empty dataset. Pass at least one image.")
    item = dataset[0]
    image = image_to_tensor(item[0] if isinstance(item, (tuple, list)) else item)
    if image.ndim != 3:
        raise ValueError(
            f"Dataset images must have shape (C, H, W), got shape "
            f"{tuple(image.shape)} for item 0. Return one image per item, with "
            "a channel axis first."
        )
    return int(image.shape[0])


def _check_saved_classes(classes):
    classes = np.asarray(classes)
    if classes.shape != (2,) or classes[0] == classes[1]:
        raise ModelFormatError(
            f"classes={classes.tolist()!r} is invalid. Expected two distinct labels."
        )
    if not np.array_equal(np.sort(classes), classes):
        raise ModelFormatError(
            f"classes={classes.tolist()!r} is not sorted. Pass the classes_ of the "
            "saved classifier, which are sorted with the positive class second."
        )
    return classes


def _is_real(value, low, high=None, *, closed_low=True):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    if not np.isfinite(value):
        return False
    above_low = value >= low if closed_low else value > low
    return above_low and (high is None or value < high)


def _is_image_size(value):
    if value is None or is_positive_int(value):
        return True
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(is_positive_int(size) for size in value)
    )


def _is_optimizer(value):
    if isinstance(value, str):
        return value in _OPTIMIZERS
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


def _is_random_state(value):
    if value is None or isinstance(value, np.random.RandomState):
        return True
    return is_int(value) and value >= 0


def _is_optional_positive_int(value):
    return value is None or is_positive_int(value)


def _is_int_at_least(minimum):
    return lambda value: is_int(value) and value >= minimum


def _is_instance_or_none(types):
    return lambda value: value is None or isinstance(value, types)


# (parameter, check, description of the valid values), checked at fit.
_PARAMETER_RULES = [
    ("image_size", _is_image_size, "None, a positive int or a pair of positive ints"),
    ("in_channels", _is_optional_positive_int, "None or a positive int"),
    (
        "weights",
        _is_instance_or_none((str, ResNet18_Weights)),
        "None, a weights name such as 'IMAGENET1K_V1', or a ResNet18_Weights member",
    ),
    ("max_epochs", is_positive_int, "a positive int"),
    ("lr", lambda value: _is_real(value, 0, closed_low=False), "a positive float"),
    ("batch_size", _is_int_at_least(2), "an int of at least 2"),
    (
        "optimizer",
        _is_optimizer,
        f"one of {sorted(_OPTIMIZERS)} or a torch.optim.Optimizer subclass",
    ),
    ("optimizer_kwargs", _is_instance_or_none(dict), "None or a dict"),
    ("weight_decay", lambda value: _is_real(value, 0), "a float of at least 0"),
    ("early_stopping", lambda value: isinstance(value, (bool, np.bool_)), "a bool"),
    (
        "validation_fraction",
        lambda value: _is_real(value, 0, 1, closed_low=False),
        "a float strictly between 0 and 1",
    ),
    ("patience", is_positive_int, "a positive int"),
    ("callbacks", _is_instance_or_none((list, tuple)), "None or a list"),
    (
        "device",
        lambda value: isinstance(value, (str, torch.device)),
        "'auto', a device name or a torch.device",
    ),
    ("num_workers", _is_int_at_least(0), "an int of at least 0"),
    ("n_threads", _is_optional_positive_int, "None or a positive int"),
    (
        "random_state",
        _is_random_state,
        "None, a non-negative int or a numpy RandomState",
    ),
    (
        "verbose",
        lambda value: isinstance(value, numbers.Integral) and value >= 0,
        "an int of at least 0",
    ),
]

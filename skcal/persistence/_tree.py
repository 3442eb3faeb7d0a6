"""Describe fitted estimators as manifest nodes and rebuild them without unpickling."""

# License: BSD-3-Clause

import numpy as np

from skcal.exceptions import ModelFormatError
from skcal.persistence._values import decode, decode_params, encode, encode_params, is_unsaved

SUPPORTED_CLASSES = (
    "ResNet18Classifier",
    "FrozenEstimator",
    "TemperatureScalingClassifier",
    "TunedThresholdClassifierCV",
    "ExactThresholdClassifierCV",
)

# Fitted attributes of the threshold wrappers that are stored, when present.
_THRESHOLD_ATTRIBUTES = ("best_threshold_", "best_score_", "pos_label_")


def describe_node(estimator, tensors):
    """Return the manifest node of an estimator, adding its network tensors to ``tensors``."""
    name = type(estimator).__name__
    describe = _DESCRIBERS.get(name)
    if describe is None or type(estimator) is not _estimator_class(name):
        raise TypeError(
            f"save_model cannot save a {type(estimator).__module__}.{name}. Supported "
            f"types: {', '.join(SUPPORTED_CLASSES)}, composed as a threshold "
            "wrapper around temperature scaling around the network."
        )
    return {"class": name, **describe(estimator, tensors)}


def restore_node(node, context):
    """Rebuild the estimator that a manifest node describes."""
    name = node["class"]
    if name not in _RESTORERS:
        raise ModelFormatError(
            f"The manifest names the estimator class {name!r}, which skcal does not "
            f"load. Known classes: {', '.join(SUPPORTED_CLASSES)}."
        )
    return _RESTORERS[name](node, context)


def _estimator_class(name):
    if name == "ResNet18Classifier":
        from skcal.resnet import ResNet18Classifier

        return ResNet18Classifier
    if name == "TemperatureScalingClassifier":
        from skcal.temperature import TemperatureScalingClassifier

        return TemperatureScalingClassifier
    if name == "ExactThresholdClassifierCV":
        from skcal.tuning import ExactThresholdClassifierCV

        return ExactThresholdClassifierCV
    if name == "TunedThresholdClassifierCV":
        from sklearn.model_selection import TunedThresholdClassifierCV

        return TunedThresholdClassifierCV
    if name == "FrozenEstimator":
        from sklearn.frozen import FrozenEstimator

        return FrozenEstimator
    return None


def _describe_network(network, tensors):
    from sklearn.utils.validation import check_is_fitted

    node = {"params": encode_params(network, exclude=())}
    try:
        check_is_fitted(network)
    except Exception:  # noqa: BLE001
        # An unfitted network is a template, such as the ``estimator``
        # parameter of a wrapper whose fitted copy is stored separately.
        node["fitted"] = None
        return node

    n_networks = len({key.split(".", 1)[0] for key in tensors})
    prefix = f"network{n_networks}."
    for key, tensor in network.module_.state_dict().items():
        tensors[prefix + key] = tensor.detach().to("cpu").contiguous().clone()
    node["fitted"] = {
        "classes": encode(np.asarray(network.classes_)),
        "in_channels": int(network.in_channels_),
        "n_epochs": None if network.n_epochs_ is None else int(network.n_epochs_),
        "tensor_prefix": prefix,
    }
    return node


def _restore_network(node, context):
    from skcal._torch_utils import resolve_device

    params = decode_params(node["params"])
    device = context["device"]
    if device is None:
        try:
            resolve_device(params.get("device", "auto"))
        except ValueError:
            device = "auto"
    if device is not None:
        params["device"] = device

    network = _estimator_class("ResNet18Classifier")(**params)
    fitted = node["fitted"]
    if fitted is None:
        return network

    prefix = fitted["tensor_prefix"]
    state_dict = {
        key[len(prefix) :]: tensor
        for key, tensor in context["tensors"].items()
        if key.startswith(prefix)
    }
    if not state_dict:
        raise ModelFormatError(f"The weights file has no tensors named {prefix}*.")
    return network._restore(
        decode(fitted["classes"]),
        fitted["in_channels"],
        state_dict,
        n_epochs=fitted["n_epochs"],
    )


def _describe_frozen(frozen, tensors):
    return {"estimator": describe_node(frozen.estimator, tensors)}


def _restore_frozen(node, context):
    inner = restore_node(node["estimator"], context)
    return _estimator_class("FrozenEstimator")(inner)


def _describe_wrapper(wrapper, tensors, attributes):
    """Describe a meta-estimator: parameters, template and fitted estimator."""
    node = {
        "params": encode_params(wrapper, exclude=("estimator",)),
        "estimator": describe_node(wrapper.estimator, tensors),
    }
    if not hasattr(wrapper, "estimator_"):
        # An unfitted template, such as the estimator parameter of a
        # threshold tuner that was fitted with refit=False.
        node["fitted"] = None
        return node
    if wrapper.estimator_ is wrapper.estimator:
        fitted_estimator = "same as estimator"
    else:
        fitted_estimator = describe_node(wrapper.estimator_, tensors)
    fitted = {
        name: encode(getattr(wrapper, name))
        for name in attributes
        if hasattr(wrapper, name)
    }
    node["fitted"] = {"estimator_": fitted_estimator, **fitted}
    return node


def _restore_wrapper(node, context):
    """Rebuild a meta-estimator and set its fitted attributes, without fitting."""
    template = restore_node(node["estimator"], context)
    params = decode_params(node["params"])
    wrapper = _estimator_class(node["class"])(template, **params)
    if node["fitted"] is None:
        return wrapper

    fitted = dict(node["fitted"])
    fitted_estimator = fitted.pop("estimator_")
    if fitted_estimator == "same as estimator":
        wrapper.estimator_ = template
    else:
        wrapper.estimator_ = restore_node(fitted_estimator, context)
    for name, value in fitted.items():
        setattr(wrapper, name, decode(value))
    return wrapper


def _describe_temperature(model, tensors):
    return _describe_wrapper(model, tensors, ("temperature_", "bias_", "classes_"))


def _restore_temperature(node, context):
    model = _restore_wrapper(node, context)
    if node["fitted"] is None:
        return model

    temperature = _fitted_number(model, "temperature_")
    bias = _fitted_number(model, "bias_")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ModelFormatError(
            f"The manifest gives temperature_={temperature!r}; a fitted temperature "
            "is a finite positive number. The manifest was edited or damaged: "
            "save the model again."
        )
    if not np.isfinite(bias):
        raise ModelFormatError(
            f"The manifest gives bias_={bias!r}; a fitted bias is finite. The "
            "manifest was edited or damaged: save the model again."
        )
    return model


def _fitted_number(model, name):
    value = getattr(model, name, None)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ModelFormatError(
            f"The manifest gives {name}={value!r}, which is not a number. The "
            "manifest was edited or damaged: save the model again."
        )
    return float(value)


def _describe_threshold(model, tensors):
    if type(model).__name__ == "TunedThresholdClassifierCV" and not isinstance(model.scoring, str):
        # Its predict takes the positive label from the scorer, which could
        # not be rebuilt from the manifest.
        raise TypeError(
            f"save_model saves a TunedThresholdClassifierCV only with scoring given "
            f"by name, got scoring={model.scoring!r}. Use a metric name, or "
            "skcal.tuning.ExactThresholdClassifierCV with pos_label."
        )
    node = _describe_wrapper(model, tensors, _THRESHOLD_ATTRIBUTES)
    result = getattr(model, "threshold_result_", None)
    if result is not None:
        node["threshold_result"] = encode(result.to_dict())
    return node


def _restore_threshold(node, context):
    model = _restore_wrapper(node, context)
    if node["fitted"] is not None and np.isnan(_fitted_number(model, "best_threshold_")):
        raise ModelFormatError(
            "The manifest gives best_threshold_=nan. The manifest was edited or "
            "damaged: save the model again."
        )
    if node["class"] == "TunedThresholdClassifierCV":
        # scikit-learn's predict reads the positive label from this private
        # scorer, which fit builds from the ``scoring`` parameter.
        model._curve_scorer = model._get_curve_scorer()
        return model

    from skcal.objectives import resolve_objective
    from skcal.threshold import ThresholdResult

    if not is_unsaved(node["params"].get("objective")):
        model.objective_ = resolve_objective(model.objective)
    if "threshold_result" in node:
        fields = decode(node["threshold_result"])
        for name in ("tied_range", "threshold_interval", "score_interval"):
            if fields.get(name) is not None:
                fields[name] = tuple(fields[name])
        model.threshold_result_ = ThresholdResult(**fields)
    return model


_DESCRIBERS = {
    "ResNet18Classifier": _describe_network,
    "FrozenEstimator": _describe_frozen,
    "TemperatureScalingClassifier": _describe_temperature,
    "TunedThresholdClassifierCV": _describe_threshold,
    "ExactThresholdClassifierCV": _describe_threshold,
}

_RESTORERS = {
    "ResNet18Classifier": _restore_network,
    "FrozenEstimator": _restore_frozen,
    "TemperatureScalingClassifier": _restore_temperature,
    "TunedThresholdClassifierCV": _restore_threshold,
    "ExactThresholdClassifierCV": _restore_threshold,
}

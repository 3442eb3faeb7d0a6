"""File names and version of the model directory format."""

# License: BSD-3-Clause

FORMAT_NAME = "skcal-model"
# Version of the manifest layout. Increase it when a change would make older
# skcal releases misread a new manifest; load_model rejects other versions.
FORMAT_VERSION = 1

MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "model.safetensors"

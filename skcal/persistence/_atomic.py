"""Atomic writes of a model directory: staging, fsync, rename or exchange."""

# License: BSD-3-Clause

import ctypes
import errno
import hashlib
import json
import os
import secrets
import shutil
import sys

from skcal.persistence._format import FORMAT_NAME, MANIFEST_FILE, WEIGHTS_FILE


def check_target(path, force):
    """Raise ``FileExistsError`` unless a model may be saved at ``path``."""
    if not (path.exists() or path.is_symlink()):
        return
    if not force:
        raise FileExistsError(
            f"{path} already exists. Pass force=True (--force on the command line) "
            "to replace it, or choose another path."
        )
    _check_replaceable(path)


def _check_replaceable(path):
    # The check keeps force=True from deleting a directory that is not a
    # model, such as a home directory passed by mistake.
    if path.is_symlink() or not path.is_dir():
        raise FileExistsError(
            f"{path} exists and is not a directory; it cannot be replaced by a "
            "model directory. Remove it or choose another path."
        )
    if (path / MANIFEST_FILE).is_file() or not any(path.iterdir()):
        return
    raise FileExistsError(
        f"{path} exists and is not a model directory (no {MANIFEST_FILE}); it is "
        "not replaced, even with force=True. Choose another path."
    )


def write_model_files(directory, manifest, tensors):
    """Write and fsync the weights, then the manifest with the weights' digest."""
    from safetensors.torch import save_file

    weights_path = directory / WEIGHTS_FILE
    save_file(tensors, os.fspath(weights_path), metadata={"format": FORMAT_NAME})
    # safetensors 0.8 creates the file readable by its owner only; a model
    # directory is meant to be shared like other data files.
    os.chmod(weights_path, 0o644)
    _fsync_file(weights_path)
    manifest["weights"] = {
        "file": WEIGHTS_FILE,
        "sha256": file_sha256(weights_path),
        "n_tensors": len(tensors),
    }

    manifest_path = directory / MANIFEST_FILE
    with open(manifest_path, "w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2, allow_nan=True)
        stream.write("\n")
        stream.flush()
        os.fsync(stream.fileno())
    _fsync_directory(directory)


def install_directory(staging, path, force):
    """Move the complete staging directory to ``path``, replacing a model there."""
    if not (path.exists() or path.is_symlink()):
        try:
            os.rename(staging, path)
        except OSError as err:
            if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise FileExistsError(
                    f"{path} was created by another process during the save. "
                    "Pass force=True to replace it."
                ) from err
            raise
        _fsync_directory(path.parent)
        return

    _check_replaceable(path)
    if _exchange_paths(staging, path):
        # The staging name now points to the previous model.
        _fsync_directory(path.parent)
        shutil.rmtree(staging, ignore_errors=True)
        return
    _replace_in_two_renames(staging, path)


def _replace_in_two_renames(staging, path):
    aside = path.parent / f".{path.name}.replaced-{secrets.token_hex(6)}"
    os.rename(path, aside)
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(aside, path)
        raise
    _fsync_directory(path.parent)
    shutil.rmtree(aside, ignore_errors=True)


def _exchange_paths(first, second):
    """Swap two directories atomically with Linux's renameat2; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False

    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        # Kernels before 3.15 and some file systems lack RENAME_EXCHANGE.
        return False
    raise OSError(code, os.strerror(code), os.fspath(second))


def _fsync_file(path):
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def _fsync_directory(path):
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        # Some platforms and file systems cannot fsync a directory.
        pass
    finally:
        os.close(descriptor)


def file_sha256(path):
    """Return the hexadecimal SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing_model_message(path):
    """Return the error message for a missing model directory, naming any leftover."""
    leftovers = sorted(path.parent.glob(f".{path.name}.replaced-*")) if path.parent.is_dir() else []
    message = f"Model directory {path} not found."
    if leftovers:
        message += (
            f" A save that replaced it was interrupted; the previous model is in "
            f"{leftovers[0]}. Rename that directory to {path.name} to restore it."
        )
    return message

"""Reader for IDX files, the array format of MNIST and Fashion-MNIST.

An IDX file starts with a 4-byte magic number: two zero bytes, a byte that
codes the element type and a byte with the number of dimensions. Then come
the dimensions as big-endian unsigned 32-bit integers, and the elements in
C order, big-endian. Files may be gzip-compressed (``.gz``).
"""

# License: BSD-3-Clause

import gzip
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx"]

# Element type codes of the IDX format, mapped to big-endian NumPy dtypes.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an IDX file, plain or gzip-compressed, into a NumPy array.

    Parameters
    ----------
    path : str or path-like
        The file. A name ending in ``.gz`` is decompressed while reading.

    Returns
    -------
    array : ndarray
        The elements with the file's shape, in native byte order.

    Raises
    ------
    ValueError
        When the magic number is invalid, the element type is unknown, or
        the file contains fewer or more bytes than its header announces (a
        truncated download, for example). The message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from skcal.datasets import read_idx
    >>> header = bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
    >>> _ = path.write_bytes(header + bytes([7, 0, 9]))
    >>> read_idx(path)
    array([7, 0, 9], dtype=uint8)
    """
    path = Path(path)
    content = _read_bytes(path)

    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: it must start with two zero bytes, then "
            f"a type code and a dimension count, but starts with {content[:4]!r}. "
            "Check that the path names an IDX file such as train-images-idx3-ubyte."
        )
    type_code, n_dims = content[2], content[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(
            f"{path} has the unknown IDX element type 0x{type_code:02X}; the "
            f"format defines {known}. The file is damaged or not an IDX file."
        )

    header_size = 4 + 4 * n_dims
    if len(content) < header_size:
        raise ValueError(
            f"{path} is truncated: its header announces {n_dims} dimensions "
            f"({header_size} header bytes), but the file has {len(content)} bytes. "
            "Download or copy the file again."
        )
    shape = tuple(
        int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims)
    )
    return _decode_elements(path, content, header_size, shape, IDX_DTYPES[type_code])


def _read_bytes(path):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            return stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(
            f"{path} is not a complete gzip file ({err}). The download was "
            "probably cut short; download or copy the file again."
        ) from err


def _decode_elements(path, content, header_size, shape, dtype):
    n_elements = int(np.prod(shape, dtype=np.int64))
    expected = header_size + n_elements * dtype.itemsize
    if len(content) != expected:
        problem = "is truncated" if len(content) < expected else "has trailing bytes"
        raise ValueError(
            f"{path} {problem}: its header announces shape {shape} of {dtype.name} "
            f"elements, {expected} bytes in all, but the file has {len(content)} "
            "bytes. Download or copy the file again."
        )
    elements = np.frombuffer(content, dtype=dtype, offset=header_size)
    return elements.reshape(shape).astype(dtype.newbyteorder("="))

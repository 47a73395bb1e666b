"""Data sets: generated 2-D problems, real 8x8 handwritten digits, and MNIST.

Everything but :func:`load_mnist` is offline. Every generator is seeded (``seed=``):
the same call returns the same arrays. Features are float64 (N, D); labels are
int64 (N,).

:func:`load_mnist` downloads the four MNIST IDX files once (from :data:`MNIST_URL`
or a URL you pass), checks each file's SHA-256 (or MD5) against known sums, keeps
them in a cache directory and parses the IDX format with numpy alone.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["xor", "xor_signs", "spirals", "moons", "blobs", "digits", "Split", "train_test_split",
           "load_mnist", "parse_idx", "MNIST_URL", "MNIST_FILES", "MNIST_SHA256", "MNIST_MD5",
           "DownloadError"]


def _check_n(n, name: str = "n", minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _check_noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    return float(noise)


def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: points around the four corners of the unit square.

    Label 1 when exactly one coordinate is "on" (corners (0, 1) and (1, 0)), else 0.
    ``n`` points, spread evenly over the corners, with Gaussian noise of std ``noise``.
    """
    n = _check_n(n, minimum=4)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    which = np.arange(n) % 4
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = np.array([0, 1, 1, 0])[which].astype(np.int64)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def xor_signs(n: int = 40, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """XOR with signs, notebook 02's set: ``n`` points around the corners (±1, ±1), label 1 where the signs differ.

    Unlike :func:`xor` (corners of the unit square, int labels, shuffled), the labels are
    float 0.0/1.0 (the targets of a mean-squared-error fit) and the order is not shuffled.

    Returns ``X`` (n, 2) float64 and ``y`` (n,) float64 in {0, 1}. The corners are used
    in turn, so every corner gets n/4 points when n is a multiple of 4.
    """
    if n < 4:
        raise ValueError(f"n must be at least 4, got {n}")
    rng = np.random.default_rng(seed)
    corners = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    labels = np.array([0.0, 0.0, 1.0, 1.0])
    idx = np.arange(n) % 4
    X = corners[idx] + noise * rng.standard_normal((n, 2))
    return X, labels[idx]


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (the CS231n toy problem), ``n`` points in all."""
    n = _check_n(n, minimum=classes if isinstance(classes, int) else 1)
    classes = _check_n(classes, "classes", minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = np.linspace(0.05, 1.0, n)[rng.permutation(n)]
    t = 4.0 * r + 2 * np.pi * y / classes + noise * rng.standard_normal(n)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return X, y.astype(np.int64)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``)."""
    n = _check_n(n, minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0), np.ones(n1)]).astype(np.int64)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def blobs(n: int = 300, centers: int = 3, std: float = 0.5, dim: int = 2,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around ``centers`` random centres in [-3, 3]^dim."""
    n = _check_n(n)
    centers = _check_n(centers, "centers")
    dim = _check_n(dim, "dim")
    std = _check_noise(std)
    rng = np.random.default_rng(seed)
    mu = rng.uniform(-3, 3, size=(centers, dim))
    y = (np.arange(n) % centers).astype(np.int64)
    X = mu[y] + std * rng.standard_normal((n, dim))
    perm = rng.permutation(n)
    return X[perm], y[perm]


@dataclass
class Split:
    """A train/test split: ``X_train`` (N, D), ``y_train`` (N,), ``X_test``, ``y_test``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __iter__(self):  # allows X_train, y_train, X_test, y_test = digits()
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))


def train_test_split(X: np.ndarray, y: np.ndarray, test_size: float = 0.25, seed: int = 0) -> Split:
    """Seeded stratified split: every class keeps its share in train and test."""
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}")
    if not (0 < test_size < 1):
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.append(idx[: int(round(test_size * idx.size))])
    test_idx = np.sort(np.concatenate(test))
    mask = np.ones(y.shape[0], bool)
    mask[test_idx] = False
    train_idx = np.flatnonzero(mask)
    train_idx = train_idx[rng.permutation(train_idx.size)]
    return Split(X[train_idx], y[train_idx], X[test_idx], y[test_idx])


def digits(test_size: float = 0.25, seed: int = 0) -> Split:
    """The real 8x8 handwritten digits bundled with scikit-learn (1797 images, 10 classes).

    Pixels (0..16) are scaled to [0, 1]; X is (N, 64) float64, y is (N,) int64.
    Returns a seeded stratified :class:`Split` (unpacks as ``X_train, y_train, X_test, y_test``).
    """
    X, y = _digits_arrays()
    return train_test_split(X, y, test_size=test_size, seed=seed)


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    raw = load_digits()
    X = raw.data.astype(np.float64) / 16.0
    y = raw.target.astype(np.int64)
    X.flags.writeable = False  # shared by every call: the split returns copies
    y.flags.writeable = False
    return X, y


# ---------------------------------------------------------------------------- MNIST
#: Where the four gzipped IDX files are fetched from (the mirror torchvision uses;
#: the original http://yann.lecun.com/exdb/mnist/ is often unavailable).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

#: The four files, by role.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: SHA-256 of the official gzipped files (9912422, 28881, 1648877 and 4542 bytes).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: MD5 of the same files (the sums torchvision's ``datasets.MNIST`` checks); pass
#: ``hashes=MNIST_MD5`` to verify by MD5 instead.
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A download failed or its checksum did not match; nothing was left in the cache."""


def parse_idx(data: bytes) -> np.ndarray:
    """Parse an (uncompressed) IDX file: magic ``0 0 type ndim``, big-endian int32 dims, data.

    Returns an array of the stored shape and dtype (uint8 for MNIST). Raises ValueError
    when the header is malformed or the data is shorter or longer than the header says.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"not an IDX file: expected magic bytes 00 00, got {data[:2].hex() or 'nothing'}")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"unknown IDX data type 0x{code:02x}; expected one of {[hex(c) for c in _IDX_DTYPES]}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"IDX header truncated: need {header} bytes for {ndim} dimensions, got {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"IDX data of shape {shape} needs {expected} bytes, got {len(data)} "
                         "(truncated or corrupt file)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def _hash_kind(expected: str, name: str) -> str:
    expected = expected.lower()
    if len(expected) == 64 and all(c in "0123456789abcdef" for c in expected):
        return "sha256"
    if len(expected) == 32 and all(c in "0123456789abcdef" for c in expected):
        return "md5"
    raise ValueError(f"hashes[{name!r}] must be a SHA-256 (64 hex digits) or MD5 (32 hex digits), got {expected!r}")


def _file_digest(path: Path, kind: str) -> str:
    h = hashlib.new(kind)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, dest: Path, expected: str, timeout: float) -> None:
    """Fetch ``url`` into ``dest`` atomically: a temporary file in the same directory,
    hashed while streaming, renamed into place only when complete and verified."""
    kind = _hash_kind(expected, dest.name)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.new(kind)
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (http(s) URL by design)
                    length = resp.headers.get("Content-Length")
                    received = 0
                    for chunk in iter(lambda: resp.read(_CHUNK), b""):
                        h.update(chunk)
                        out.write(chunk)
                        received += len(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise DownloadError(f"could not download {url}: {exc}") from exc
            except Exception as exc:  # http.client.IncompleteRead and friends: a cut-off transfer
                raise DownloadError(f"download of {url} was interrupted: {exc!r}") from exc
            if length is not None and length.isdigit() and received != int(length):
                raise DownloadError(f"download of {url} was interrupted: got {received} of {length} bytes; "
                                    "nothing was cached")
        actual = h.hexdigest()
        if actual != expected.lower():
            raise DownloadError(
                f"checksum mismatch for {url}: expected {kind} {expected.lower()}, got {actual} "
                "(corrupt or truncated download, or the wrong file); nothing was cached")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _default_cache_dir() -> Path:
    env = os.environ.get("BACKPROP_DATA")
    return Path(env) if env else Path.home() / ".cache" / "backprop_course" / "mnist"


def load_mnist(cache_dir: str | os.PathLike | None = None, url: str = MNIST_URL,
               hashes: dict[str, str] | None = None, timeout: float = 60.0) -> Split:
    """MNIST: 60 000 training and 10 000 test images of handwritten digits, 28x28 pixels.

    Downloads the four gzipped IDX files (:data:`MNIST_FILES`) from ``url`` (a base URL
    ending in ``/``) into ``cache_dir`` the first time, verifies each against
    ``hashes`` (file name -> SHA-256 or MD5 hex digest; default :data:`MNIST_SHA256`),
    and afterwards reads them from the cache without touching the network. A cached
    file that no longer matches its sum is downloaded again. A failed, truncated or
    corrupt download raises :class:`DownloadError` and leaves no file behind.

    ``cache_dir`` defaults to ``$BACKPROP_DATA`` or ``~/.cache/backprop_course/mnist``.

    Returns a :class:`Split`: ``X_train`` (60000, 784) and ``X_test`` (10000, 784) float64
    in [0, 1] (pixel / 255), ``y_train`` and ``y_test`` int64 class ids 0..9.
    """
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string, got {url!r}")
    hashes = MNIST_SHA256 if hashes is None else hashes
    if not isinstance(hashes, dict):
        raise TypeError(f"hashes must be a dict of file name -> hex digest, got {type(hashes).__name__}")
    missing = [f for f in MNIST_FILES.values() if f not in hashes]
    if missing:
        raise ValueError(f"hashes must give a checksum for every file {list(MNIST_FILES.values())}, missing {missing}")
    cache = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    base = url if url.endswith("/") else url + "/"

    arrays = {}
    for role, fname in MNIST_FILES.items():
        expected = hashes[fname]
        path = cache / fname
        if not (path.is_file() and _file_digest(path, _hash_kind(expected, fname)) == expected.lower()):
            _download(base + fname, path, expected, timeout)
        try:
            with gzip.open(path, "rb") as f:
                arrays[role] = parse_idx(f.read())
        except (OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path} passed its checksum but is not a valid gzipped IDX file: {exc}") from exc

    out = []
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"MNIST {part} files disagree: images {images.shape}, labels {labels.shape}")
        out.append(images.reshape(images.shape[0], -1).astype(np.float64) / 255.0)
        out.append(labels.astype(np.int64))
    return Split(*out)

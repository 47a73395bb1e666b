"""Data sets: generators, digits, and the MNIST loader against a local HTTP server."""

import gzip
import hashlib
import http.server
import os
import struct
import threading

import numpy as np
import pytest

from backprop_lib import data
from backprop_lib.data import (MNIST_FILES, MNIST_MD5, MNIST_SHA256, DownloadError, Split, blobs, digits,
                               load_mnist, moons, parse_idx, spirals, train_test_split, xor)


# ---------------------------------------------------------------- generators
@pytest.mark.parametrize("make, kwargs, classes", [
    (xor, {"n": 100}, 2), (spirals, {"n": 150, "classes": 3}, 3), (moons, {"n": 101}, 2),
    (blobs, {"n": 120, "centers": 4}, 4),
])
def test_generators_shapes_dtypes_labels_and_seeds(make, kwargs, classes):
    X, y = make(**kwargs, seed=3)
    n = kwargs["n"]
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    X2, y2 = make(**kwargs, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(**kwargs, seed=4)[0])


def test_xor_labels_follow_the_corners():
    X, y = xor(n=40, noise=0.0, seed=0)
    assert np.array_equal(y, (X[:, 0] != X[:, 1]).astype(int))


def test_noise_argument_controls_the_spread():
    X0, y0 = moons(n=200, noise=0.0, seed=0)
    X1, y1 = moons(n=200, noise=0.3, seed=0)
    centre = np.where(y0[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    assert np.allclose(np.hypot(*(X0 - centre).T), 1.0)  # no noise: exactly on the half circles
    assert np.array_equal(y0, y1) and np.std(np.hypot(*(X1 - centre).T)) > 0.1


def test_blobs_dim_and_std():
    X, y = blobs(n=400, centers=2, std=0.01, dim=5, seed=0)
    assert X.shape == (400, 5)
    for c in (0, 1):
        assert X[y == c].std(axis=0).max() < 0.02


# ---------------------------------------------------------------- digits and splits
def test_digits_is_the_real_bundled_data_scaled_and_split_stratified():
    split = digits(seed=0)
    X_train, y_train, X_test, y_test = split
    assert isinstance(split, Split)
    assert X_train.shape[1] == 64 and X_train.shape[0] + X_test.shape[0] == 1797
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    assert X_train.min() >= 0 and X_train.max() <= 1 and X_train.max() == 1
    assert abs(X_test.shape[0] - 0.25 * 1797) < 10
    # stratified: every class has about 25% of its images in the test set
    for c in range(10):
        n_c = np.sum(y_train == c) + np.sum(y_test == c)
        assert abs(np.sum(y_test == c) - 0.25 * n_c) <= 1
    again = digits(seed=0)
    assert np.array_equal(again.X_test, X_test) and np.array_equal(again.y_train, y_train)
    assert not np.array_equal(digits(seed=1).y_test, y_test)


def test_train_test_split_keeps_every_row_exactly_once():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.repeat([0, 1], 10)
    s = train_test_split(X, y, test_size=0.3, seed=0)
    rows = np.concatenate([s.X_train[:, 0], s.X_test[:, 0]])
    assert np.array_equal(np.sort(rows), X[:, 0])
    assert s.y_test.tolist().count(0) == 3 and s.y_test.tolist().count(1) == 3


# ---------------------------------------------------------------- IDX and MNIST
def _idx(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _fixture_files(n_train=12, n_test=5):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train).astype(np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test).astype(np.uint8),
    }
    files = {MNIST_FILES[role]: gzip.compress(_idx(arr), mtime=0) for role, arr in arrays.items()}
    return arrays, files


class _Server:
    """A local HTTP server: ``files[name] = bytes``; ``mode[name]`` in good/truncated/corrupt/missing."""

    def __init__(self, files):
        self.files, self.mode, self.requests = dict(files), {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append(name)
                mode = server.mode.get(name, "good")
                body = server.files.get(name)
                if body is None or mode == "missing":
                    self.send_error(404)
                    return
                if mode == "corrupt":
                    body = body[:-8] + bytes(8)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if mode == "truncated" else body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mnist_server():
    arrays, files = _fixture_files()
    server = _Server(files)
    server.arrays = arrays
    server.sha256 = {name: hashlib.sha256(b).hexdigest() for name, b in files.items()}
    server.md5 = {name: hashlib.md5(b).hexdigest() for name, b in files.items()}
    yield server
    server.close()


def test_parse_idx_round_trip_and_errors():
    arr = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(_idx(arr)), arr)
    raw = _idx(np.arange(10, dtype=np.uint8))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        parse_idx(raw[:-1])
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"\x01\x02" + raw[2:])
    with pytest.raises(TypeError, match="bytes"):
        parse_idx("not bytes")


def test_load_mnist_downloads_verifies_parses_and_caches(mnist_server, tmp_path):
    cache = tmp_path / "cache"
    split = load_mnist(cache_dir=cache, url=mnist_server.url, hashes=mnist_server.sha256)
    a = mnist_server.arrays
    assert split.X_train.shape == (12, 784) and split.X_test.shape == (5, 784)
    assert split.X_train.dtype == np.float64 and split.y_train.dtype == np.int64
    assert split.X_train.min() >= 0 and split.X_train.max() <= 1
    assert np.array_equal(split.X_train, a["train_images"].reshape(12, 784) / 255.0)
    assert np.array_equal(split.y_test, a["test_labels"].astype(np.int64))
    assert sorted(os.listdir(cache)) == sorted(MNIST_FILES.values())
    assert len(mnist_server.requests) == 4
    # second call: served from the cache, no request at all (even with the server gone)
    mnist_server.close()
    again = load_mnist(cache_dir=cache, url=mnist_server.url, hashes=mnist_server.sha256)
    assert np.array_equal(again.X_test, split.X_test) and len(mnist_server.requests) == 4


def test_load_mnist_accepts_md5_sums(mnist_server, tmp_path):
    split = load_mnist(cache_dir=tmp_path, url=mnist_server.url, hashes=mnist_server.md5)
    assert split.y_train.shape == (12,)


@pytest.mark.parametrize("mode, message", [
    ("truncated", "interrupted"),
    ("corrupt", "checksum mismatch"),
    ("missing", "could not download"),
])
def test_failed_download_raises_and_leaves_no_partial_file(mnist_server, tmp_path, mode, message):
    bad = MNIST_FILES["train_labels"]
    mnist_server.mode[bad] = mode
    with pytest.raises(DownloadError, match=message) as err:
        load_mnist(cache_dir=tmp_path, url=mnist_server.url, hashes=mnist_server.sha256, timeout=10)
    assert bad in str(err.value)
    assert bad not in os.listdir(tmp_path)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".part")]
    # once the server is fixed, the next call completes the cache
    mnist_server.mode.clear()
    assert load_mnist(cache_dir=tmp_path, url=mnist_server.url, hashes=mnist_server.sha256).X_train.shape == (12, 784)


def test_a_corrupted_cached_file_is_downloaded_again(mnist_server, tmp_path):
    load_mnist(cache_dir=tmp_path, url=mnist_server.url, hashes=mnist_server.sha256)
    name = MNIST_FILES["test_images"]
    (tmp_path / name).write_bytes(b"garbage")
    split = load_mnist(cache_dir=tmp_path, url=mnist_server.url, hashes=mnist_server.sha256)
    assert split.X_test.shape == (5, 784) and mnist_server.requests.count(name) == 2


def test_load_mnist_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        load_mnist(cache_dir=tmp_path, url="http://127.0.0.1:9/", hashes={"x": "0" * 64})
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist(cache_dir=tmp_path, url="http://127.0.0.1:9/", hashes={f: "abc" for f in MNIST_FILES.values()})
    with pytest.raises(TypeError, match="url"):
        load_mnist(cache_dir=tmp_path, url=None)
    assert os.listdir(tmp_path) == []


def test_official_checksums_are_constants_for_all_four_files():
    assert set(MNIST_SHA256) == set(MNIST_MD5) == set(MNIST_FILES.values())
    assert all(len(h) == 64 for h in MNIST_SHA256.values()) and all(len(h) == 32 for h in MNIST_MD5.values())
    assert data.MNIST_URL.startswith("https://") and data.MNIST_URL.endswith("/")

"""The data-only channel between the grader and its sandboxed worker, and the fallback's guards.

Everything the worker sends is data validated against a schema: anything malformed is a
ProtocolError (the grader turns it into a 0 with the reason), never code run in the grader.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backprop_lib.engine import Value
from backprop_lib.grade import exchange, sandbox, static
from backprop_lib.grade.verdicts import _resolve_class
from backprop_lib.grade.wire import Decoder, Encoder, ProtocolError, receive, send


def _roundtrip(value, **kw):
    encoder = Encoder(**kw)
    node = encoder.node(value)
    entries, buffers = encoder.finish()
    decoder = Decoder(entries, buffers, resolve_class=_resolve_class, make_callable=lambda h, n: None)
    decoder.decode()
    return decoder.node(node)


def _decode(entries, buffers=(), node=None):
    decoder = Decoder(entries, list(buffers), resolve_class=_resolve_class, make_callable=lambda h, n: None)
    decoder.decode()
    return decoder.node(node if node is not None else {"$": 0})


def test_values_cross_by_value_with_shared_objects_and_deep_graphs():
    x = np.arange(6.0).reshape(2, 3)
    shared = [1, 2]
    out = _roundtrip({"x": x, "pair": (shared, shared), "rng": np.random.default_rng(3), "n": np.float32(2)})
    assert np.array_equal(out["x"], x) and out["pair"][0] is out["pair"][1]
    assert out["rng"].random() == np.random.default_rng(3).random() and out["n"].dtype == np.float32
    node = Value(1.0)
    for _ in range(20_000):  # a chain far deeper than the recursion limit
        node = node * 1.0
    copy = _roundtrip(node)
    depth = 0
    while copy.inputs:
        copy, depth = copy.inputs[0], depth + 1
    assert depth == 20_000 and type(copy) is Value


@pytest.mark.parametrize("entries, buffers, why", [
    ([{"t": "pickle", "v": "gASV"}], [], "unknown entry type"),
    ([{"t": "obj", "cls": ["os", "system"], "state": {}}], [], "not one the grader knows"),
    ([{"t": "obj", "cls": ["backprop_lib.engine", "Value"], "state": {"__class__": None}}], [], "not allowed"),
    ([{"t": "nd", "dtype": "|O", "shape": [1], "b": 0}], [b"x" * 8], "not allowed"),
    ([{"t": "nd", "dtype": "<f8", "shape": [4], "b": 0}], [b"x" * 8], "has 8 bytes"),
    ([{"t": "list", "v": [{"$": 7}]}], [], "out of range"),
    ([{"t": "ref", "r": 0}], [], "out of range"),
    ([{"t": "tuple", "v": [{"$": 0}]}], [], "contains itself"),
    ([{"t": "rng", "bitgen": "os.system", "state": None}], [], "unknown random bit generator"),
    ("not a list", [], "not a list"),
])
def test_malformed_data_is_a_protocol_error(entries, buffers, why):
    with pytest.raises(ProtocolError, match=why):
        _decode(entries, buffers)


def test_frames_are_checked_for_their_marker_and_size():
    r, w = os.pipe()
    os.write(w, b"EVIL" + bytes(8))
    with pytest.raises(ProtocolError, match="marker"):
        receive(r, time.monotonic() + 1)
    os.close(w)
    os.close(r)
    r, w = os.pipe()
    send(w, {"op": "x", "pad": "y" * 1000})
    with pytest.raises(ProtocolError, match="larger than the limit"):
        receive(r, time.monotonic() + 1, max_bytes=100)
    os.close(w)
    os.close(r)


def test_the_grader_sends_no_function_by_value():
    with pytest.raises(TypeError, match="cannot send"):
        _roundtrip(object())


def test_changes_to_arguments_are_copied_into_the_originals():
    x = np.zeros(3)
    v = Value(2.0)
    encoder = Encoder()
    nodes = exchange.encode_call(encoder, (x, v), {})
    entries, buffers = encoder.finish()
    # the "worker" side: decode, modify, reply
    theirs = Decoder(entries, buffers, resolve_class=_resolve_class, make_callable=lambda h, n: None)
    theirs.decode()
    args, _ = exchange.decode_args(theirs, nodes)
    snaps = exchange.snapshot(theirs)
    args[0][:] = 1.0
    args[1].grad = 5.0
    reply_encoder = Encoder(known={id(val): i for i, val in enumerate(theirs.values)})
    reply = exchange.encode_reply(reply_encoder, theirs, args[1], exchange.changed(theirs, snaps))
    r_entries, r_buffers = reply_encoder.finish()
    mine = Decoder(r_entries, r_buffers, resolve_class=_resolve_class, make_callable=lambda h, n: None,
                   known=encoder.objects)
    mine.decode()
    assert mine.node(reply["value"]) is v  # the caller's own object comes back
    assert exchange.apply_changes(mine, reply["changes"], encoder.objects) == []
    assert np.array_equal(x, np.ones(3)) and v.grad == 5.0


def test_static_findings_concern_only_code_that_can_run_during_the_call():
    cells = [{"index": 1, "source": "import sys\nimport backprop_lib.gradcheck as g\n"},
             {"index": 2, "source": "def honest(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)\n"},
             {"index": 3, "source": "def peek():\n    return sys._getframe(1).f_locals\n"},
             {"index": 4, "source": "def cheat(f, x, h):\n    return g.central_difference(f, x, h)\n"},
             {"index": 5, "source": "sys.setprofile(None)\n"}]
    findings = static.analyse(cells)
    refs = {"backprop_lib.gradcheck.central_difference": "backprop_lib.gradcheck.central_difference"}
    assert static.names_reference(findings, "cheat", refs) == "backprop_lib.gradcheck.central_difference"
    assert static.names_reference(findings, "honest", refs) is None
    dynamic, tampering = static.relevant(findings, "honest")
    assert dynamic == [] and tampering == ["sys.setprofile (cell 5)"]  # top level: before any call
    assert "sys._getframe (cell 3)" in static.relevant(findings, "peek")[1]


def test_the_fallback_library_copy_notices_and_undoes_writes():
    copy = sandbox.LibraryCopy()
    try:
        core = Path(copy.root) / "backprop_lib" / "checks" / "_core.py"
        os.chmod(core, 0o644)
        core.write_text(core.read_text() + "\n_REGISTRY.clear()\n")
        assert copy.verify() == ["backprop_lib/checks/_core.py"]
        assert "_REGISTRY.clear()" not in core.read_text() and copy.verify() == []
    finally:
        copy.remove()


DAEMON = r"""
import os, time, ctypes
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"NAME", 0, 0, 0)
        time.sleep(60)
        os._exit(0)
    os._exit(0)
"""


def test_without_a_sandbox_a_double_forked_daemon_still_dies_with_the_grading(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from grading_fixtures import classroom
    from backprop_lib.exercises import render
    import json

    name = f"bpg_{os.getpid() % 10**8:08d}"  # this test's own daemon, not another run's
    nb = json.loads(classroom.DEMO_SOLUTION.read_text())
    nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": DAEMON.replace("NAME", name)})
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "90_grading_demo.ipynb").write_text(render(nb))
    canon = classroom.write_canonical(tmp_path / "canonical")
    proc = subprocess.run([sys.executable, "-m", "backprop_lib.grade", str(tmp_path / "alice"), "--out",
                           str(tmp_path / "g.csv"), "--exercises", str(canon), "--checks", str(classroom.DEMO_CHECKS),
                           "--sandbox", "none", "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    time.sleep(0.5)
    alive = [p for p in Path("/proc").glob("[0-9]*/comm") if _read(p) == name]
    assert alive == []


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""

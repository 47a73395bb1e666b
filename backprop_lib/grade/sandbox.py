"""The sandboxed runner: start the untrusted worker, talk to it, stop it and everything it started.

With bubblewrap (``bwrap``, Debian package ``bubblewrap``) every notebook runs in a sandbox of
its own:

* a read-only view of the system (``/usr``), of Python and its packages, and of the
  ``backprop_lib`` package directory alone: the repository around it (``solutions/``,
  ``tests/``), the class folder, the output files and your home folder are not there;
* one writable place, a private size-limited ``/tmp`` in memory that vanishes with the sandbox;
* no network (a network namespace with only a loopback device);
* its own PID namespace: it sees only its own processes (not the grader's command line),
  and when it ends every process it started dies with it, double-forked daemons included;
  ``--die-with-parent`` ends it if the grader dies;
* as root, the notebook runs as the unprivileged user ``nobody``;
* the time limits of :mod:`backprop_lib.grade.verdicts` and an address-space limit
  (``RLIMIT_AS``, ``--memory``).

Where ``bwrap`` is missing or cannot create namespaces (user namespaces disabled), the grader
falls back to process isolation: a separate process in its own session and temporary folder,
the same limits, a copy of the library outside the repository, and the grader as a
"subreaper" that kills every process a notebook left behind. The summary and the log say so
prominently: that fallback keeps honest mistakes apart but is not a security boundary.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet

from .wire import ChannelClosed, ProtocolError, receive, send

__all__ = ["SandboxInfo", "detect", "WorkerProcess", "WorkerLost", "LibraryCopy", "become_subreaper",
           "kill_orphans", "SANDBOX_TMP_MB"]

LIBRARY_DIR = Path(__file__).resolve().parent.parent      # .../backprop_lib
SANDBOX_TMP_MB = 512                                       # size of the sandbox's private /tmp
OUTPUT_HEAD, OUTPUT_TAIL = 16_000, 4_000                   # characters of stdout/stderr kept per notebook
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives")
_NOBODY = "65534"


class WorkerLost(BaseException):
    """The worker died, hung or broke the protocol while the grader waited for it.

    A BaseException, so that a check's ``except Exception`` does not swallow it.
    """

    def __init__(self, reason: str, *, malformed: bool = False):
        super().__init__(reason)
        self.reason, self.malformed = reason, malformed


# --------------------------------------------------------------------------- which sandbox


@dataclass
class SandboxInfo:
    mode: str                      # "bwrap" or "none"
    warning: str | None = None     # why there is no sandbox (printed in the summary and the log)
    bwrap: str | None = None
    flags: list[str] = field(default_factory=list)  # the user-namespace flags that worked
    library_parent: str = str(LIBRARY_DIR.parent)

    @property
    def sandboxed(self) -> bool:
        return self.mode == "bwrap"


def detect(requested: str = "auto", *, library_parent: str | None = None) -> SandboxInfo:
    """Find out at run time whether bubblewrap works here (a real probe, not just ``which``)."""
    parent = library_parent or str(LIBRARY_DIR.parent)
    if requested == "none":
        return SandboxInfo("none", "the sandbox was turned off (--sandbox none)", library_parent=parent)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxInfo("none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap",
                           library_parent=parent)
    errors = []
    for flags in (["--unshare-user", "--uid", _NOBODY, "--gid", _NOBODY] if os.geteuid() == 0 else ["--unshare-user"],
                  []):
        info = SandboxInfo("bwrap", bwrap=bwrap, flags=flags, library_parent=parent)
        cmd = bwrap_command(info, [sys.executable, "-I", "-c", "import numpy, backprop_lib"])
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc))
            continue
        if proc.returncode == 0:
            return info
        errors.append((proc.stderr or proc.stdout).strip().splitlines()[-1:] and
                      (proc.stderr or proc.stdout).strip().splitlines()[-1] or f"exit status {proc.returncode}")
    return SandboxInfo("none", f"bubblewrap is installed but cannot create a sandbox here ({errors[0]}); "
                               "are user namespaces disabled (sysctl kernel.unprivileged_userns_clone, "
                               "AppArmor's restrict_unprivileged_userns)?", library_parent=parent)


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    try:
        import site

        roots |= set(site.getsitepackages())
        user = site.getusersitepackages()
        if os.path.isdir(user):
            roots.add(user)
    except (AttributeError, ImportError):
        pass
    roots.add(os.path.dirname(os.path.realpath(sys.executable)))
    out: list[str] = []
    for root in sorted(os.path.realpath(r) for r in roots if os.path.isdir(r)):
        if not any(root == d or root.startswith(d + "/") for d in ("/usr", *out)):
            out.append(root)
    return out


def bwrap_command(info: SandboxInfo, argv: list[str]) -> list[str]:
    cmd = [info.bwrap or "bwrap", "--unshare-all", *info.flags, "--die-with-parent", "--new-session",
           "--hostname", "sandbox", "--clearenv"]
    # The private /tmp first: bwrap mounts in order, so the read-only binds below stay visible even
    # when the course itself lives under /tmp (a clone in /tmp/ci, say).
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(SANDBOX_TMP_MB << 20), "--tmpfs", "/tmp"]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
    for f in _ETC_FILES:
        if os.path.exists(f):
            cmd += ["--ro-bind", f, f]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
        if os.path.realpath(sys.prefix) == root and os.path.abspath(sys.prefix) != root:
            cmd += ["--symlink", root, os.path.abspath(sys.prefix)]
    library = os.path.join(info.library_parent, "backprop_lib")
    cmd += ["--ro-bind", library, library]
    if os.path.abspath(sys.executable) != os.path.realpath(sys.executable):
        exe_dir = os.path.dirname(os.path.abspath(sys.executable))
        if not any(exe_dir.startswith(r + "/") or exe_dir == r for r in _python_roots()):
            cmd += ["--ro-bind", exe_dir, exe_dir]
    cmd += ["--chdir", "/tmp"]
    for key, value in _environment("/tmp").items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


def _environment(home: str) -> dict[str, str]:
    return {"HOME": home, "TMPDIR": home, "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
            "IPYTHONDIR": os.path.join(home, ".ipython"), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "USER": "student"}


# --------------------------------------------------------------------------- the fallback's library copy


class LibraryCopy:
    """A copy of the backprop_lib package (without the repository around it) for the fallback.

    Its files are hashed: :meth:`verify` notices a notebook that wrote into it, and puts the
    copy back.
    """

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="backprop_grade_lib_")
        self.parent = self.root
        self._fill()

    def _fill(self) -> None:
        target = os.path.join(self.root, "backprop_lib")
        if os.path.exists(target):
            for folder, _, _ in os.walk(target):
                os.chmod(folder, 0o755)
            shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(LIBRARY_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self.hashes = self._hash()
        for folder, _, files in os.walk(target):
            for name in files:
                os.chmod(os.path.join(folder, name), 0o444)
            os.chmod(folder, 0o555)

    def _hash(self) -> dict[str, str]:
        out = {}
        for folder, dirs, files in os.walk(os.path.join(self.root, "backprop_lib")):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as fh:
                        out[os.path.relpath(path, self.root)] = hashlib.sha256(fh.read()).hexdigest()
                except OSError:
                    out[os.path.relpath(path, self.root)] = "unreadable"
        return out

    def verify(self) -> list[str]:
        """Files a notebook changed, added or removed (the copy is restored); [] if intact."""
        now = self._hash()
        changed = sorted(set(now.items()) ^ set(self.hashes.items()))
        if changed:
            self._fill()
        return sorted({path for path, _ in changed})

    def remove(self) -> None:
        for folder, _, _ in os.walk(self.root):
            try:
                os.chmod(folder, 0o755)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- processes left behind


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so the
    fallback can find and kill daemons a notebook double-forked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def kill_orphans(keep: AbstractSet[int] = frozenset()) -> int:
    """SIGKILL and reap every child process of this one not in ``keep``; return how many."""
    me, killed = os.getpid(), 0
    for _ in range(5):
        found = []
        try:
            entries = os.listdir("/proc")
        except OSError:
            return killed
        for entry in entries:
            if not entry.isdigit() or int(entry) in keep:
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read().decode("ascii", "replace")
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == me:
                found.append(int(entry))
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        for pid in found:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
    return killed


# --------------------------------------------------------------------------- one worker process


class _Capture(threading.Thread):
    """Keep the head and the tail of what the worker writes to stdout or stderr."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.head, self.tail, self.total = fd, bytearray(), bytearray(), 0

    def run(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            if not data:
                break
            self.total += len(data)
            room = OUTPUT_HEAD - len(self.head)
            if room > 0:
                self.head += data[:room]
                data = data[room:]
            if data:
                self.tail = (self.tail + data)[-OUTPUT_TAIL:]
        try:
            os.close(self.fd)
        except OSError:
            pass

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if not self.tail:
            return head
        skipped = self.total - len(self.head) - len(self.tail)
        middle = f"\n[... {skipped} bytes not kept ...]\n" if skipped > 0 else ""
        return head + middle + self.tail.decode("utf-8", "replace")


@dataclass
class Limits:
    memory_mb: int = 2048


class WorkerProcess:
    """One run of :mod:`backprop_lib.grade.worker` in the sandbox (or the fallback)."""

    #: pids of the worker processes running now (the fallback spares them when it kills orphans)
    live: set = set()

    CODE = ("import sys; sys.path.insert(0, {parent!r}); "
            "from backprop_lib.grade.worker import main; main({fd_in}, {fd_out})")

    def __init__(self, info: SandboxInfo, memory_mb: int, library_parent: str):
        self.info, self.memory_mb = info, memory_mb
        self._fd_lock = threading.Lock()
        req_read, self.req_write = os.pipe()
        self.rep_read, rep_write = os.pipe()
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        self._tmp = None
        code = self.CODE.format(parent=library_parent, fd_in=req_read, fd_out=rep_write)
        argv = [sys.executable, "-I", "-c", code]
        if info.sandboxed:
            cmd, cwd, env = bwrap_command(info, argv), "/", {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            self._tmp = tempfile.mkdtemp(prefix="backprop_grade_")
            cmd, cwd, env = argv, self._tmp, _environment(self._tmp)
        limit = memory_mb * 1024 * 1024

        def limits():
            for res, value in ((resource.RLIMIT_AS, limit), (resource.RLIMIT_CORE, 0)):
                try:
                    resource.setrlimit(res, (value, value))
                except (ValueError, OSError):
                    pass

        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out_write,
                                         stderr=err_write, pass_fds=(req_read, rep_write), preexec_fn=limits,
                                         start_new_session=True)
        finally:
            for fd in (req_read, rep_write, out_write, err_write):
                os.close(fd)
        WorkerProcess.live.add(self.proc.pid)
        self.stdout, self.stderr = _Capture(out_read), _Capture(err_read)
        self.stdout.start()
        self.stderr.start()
        self.killed_for: str | None = None

    # -- channel
    def send(self, header: dict, buffers=()) -> None:
        if self.req_write < 0:
            raise WorkerLost(self.describe_end("the channel is closed"))
        try:
            send(self.req_write, header, buffers)
        except OSError as exc:
            raise WorkerLost(self.describe_end(f"the channel closed ({exc.strerror})")) from None

    def receive(self, deadline: float, on_wait=None) -> tuple[dict, list[bytes]]:
        if self.rep_read < 0:
            raise WorkerLost(self.describe_end("the channel is closed"))
        try:
            return receive(self.rep_read, deadline, on_wait=on_wait)
        except ChannelClosed as exc:
            if str(exc) == "timeout":
                raise
            self.wait(2.0)
            raise WorkerLost(self.describe_end()) from None
        except ProtocolError as exc:
            raise WorkerLost(f"the notebook's process sent malformed data ({exc})", malformed=True) from None

    # -- ending
    def wait(self, seconds: float) -> int | None:
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL the worker and everything in its session (with bwrap: its whole PID namespace)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.wait(10)
        WorkerProcess.live.discard(self.proc.pid)
        # Each descriptor is closed once: a second close could hit a number the operating system
        # has since given to another worker's pipe (jobs run in threads).
        with self._fd_lock:
            fds, self.req_write, self.rep_read = (self.req_write, self.rep_read), -1, -1
        for fd in fds:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.stdout.join(2)
        self.stderr.join(2)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        try:
            self.send({"op": "exit"})
        except WorkerLost:
            pass
        self.wait(2.0)
        self.kill()

    def describe_end(self, fallback: str = "the process stopped reporting") -> str:
        if self.killed_for:
            return self.killed_for
        code = self.proc.poll()
        if code is None:
            return fallback
        if self.info.sandboxed and code > 128 and code - 128 < 65:
            code = -(code - 128)  # bwrap passes a killed child's signal on as 128 + signal
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            extra = {"SIGSEGV": " (a crash in compiled code)", "SIGKILL": " (killed, perhaps out of memory)",
                     "SIGABRT": " (aborted, perhaps out of memory)"}.get(name, "")
            return f"the Python process was killed by {name}{extra}"
        return f"the Python process exited with code {code} (os._exit() or a crash)"

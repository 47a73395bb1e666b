"""Keep freed memory in the process, so that large temporary arrays cost no page faults.

A training step allocates and frees megabytes of arrays (z, a, delta, dW of every layer).
glibc's allocator serves large blocks with ``mmap`` and hands them back to the operating
system on ``free`` (and trims the top of its heap the same way), so the next step touches
fresh pages: one page fault per 4 KiB. Measured on 784-(256x4)-10, batch 64, float64: about
750 page faults and +40% time per step. Raising the two thresholds once (what the
environment variables ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` would do if set
before Python starts) keeps up to ``KEEP`` bytes of freed memory for reuse. Elsewhere than glibc
(macOS, Windows, musl) this is a no-op: their allocators keep freed blocks already or cannot be tuned this way.

Set ``BACKPROP_LIB_MALLOC=default`` in the environment to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: largest block still taken from the heap (glibc's upper limit for the dynamic threshold)
MMAP_THRESHOLD = 32 * 1024 * 1024
#: freed memory at the top of the heap kept for reuse before it is returned to the system
KEEP = 256 * 1024 * 1024

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they were set."""
    global _done
    if _done is None:
        _done = False
        if sys.platform.startswith("linux") and os.environ.get("BACKPROP_LIB_MALLOC", "") != "default":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                mallopt = libc.mallopt
            except (OSError, AttributeError):  # not glibc
                return False
            mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, KEEP))
    return _done

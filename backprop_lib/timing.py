"""Fair timings on a shared machine: one BLAS thread for small matrix products."""

from __future__ import annotations

import contextlib

__all__ = ["single_thread_blas"]


def single_thread_blas():
    """Context manager limiting BLAS to one thread (via threadpoolctl, a scikit-learn dependency).

    Small matrix products (a 64-32-10 net on a batch of 32) are faster on one thread, and
    much faster when other processes share the cores; without threadpoolctl it does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")

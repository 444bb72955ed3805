"""Timing for the measurements chapters make at build time."""

import time


def one_blas_thread():
    """Run numpy's matrix products on one thread from now on, where `threadpoolctl` is
    installed (the course's and the students' requirements list it; bplib itself does not
    need it); without it, do nothing.

    The course's matrices are small: extra BLAS threads cost more than they save, and make
    timings depend on whatever else the machine is doing. Results are the same either way.
    Returns True when the limit is in place.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(1)
    return True


def best_time(repeats, compute, *args):
    """(fastest of `repeats` runs of compute(*args) in seconds, result of the last run).

    The fastest run is the one least disturbed by whatever else the machine was doing.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = compute(*args)
        best = min(best, time.perf_counter() - start)
    return best, result

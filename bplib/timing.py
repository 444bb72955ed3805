"""Timing for the measurements chapters make at build time."""

import time


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

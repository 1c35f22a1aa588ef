"""Memory a pool process freed, given back to the system after each batch.

An analysis batch allocates tens of megabytes that it frees again (spaCy's documents and arrays, the
texts, the lemma lists), but glibc's malloc keeps freed memory in the process's heap for the next
allocation: a pool process then stays at its highest need, about 60 MB above what it holds between
batches (measured with bench/memory.py). ``malloc_trim`` returns the free pages to the system; the
next batch takes them back, at the cost of faulting them in again (measured: docs/performance.md).
Elsewhere than on glibc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Give the heap's free pages back to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True

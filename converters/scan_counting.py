"""Bounded counting for scans: exact up to a cap, then a deterministic HyperLogLog estimate."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

HLL_BITS = 14
"""Register bits of the HyperLogLog sketch (2**14 registers: about 0.8 % error)."""

Hasher = Callable[[pa.Array], NDArray[np.uint64]]
"""Turns a batch of values into 64-bit hashes (deterministic across runs)."""

# --- bounded counting ---------------------------------------------------------------------------


class BoundedCounter:
    """Counts values exactly up to ``cap`` distinct values; then keeps the most frequent (lower bounds)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: dict[str, int] = {}
        self.exact = True

    def add(self, values: list[str], counts: list[int]) -> None:
        """Add counts (call :meth:`prune` afterwards)."""
        c = self.counts
        for v, n in zip(values, counts, strict=True):
            c[v] = c.get(v, 0) + n
        if len(c) > self.cap:
            self.exact = False

    def prune(self) -> None:
        """Keep the ``cap`` most frequent values (the earliest seen among equals) once twice as many are held."""
        c = self.counts
        if len(c) <= 2 * self.cap:
            return
        counts = np.fromiter(c.values(), dtype=np.int64, count=len(c))
        kth = int(np.partition(counts, len(counts) - self.cap)[len(counts) - self.cap])  # the cap-th largest
        kept = {v: n for v, n in c.items() if n > kth}
        for v, n in c.items():
            if len(kept) >= self.cap:
                break
            if n == kth:
                kept[v] = n
        self.counts = kept

    def most_common(self, n: int) -> list[tuple[str, int]]:
        """Return the ``n`` most frequent values, ties by value."""
        return heapq.nsmallest(n, self.counts.items(), key=lambda kv: (-kv[1], kv[0]))


class HyperLogLog:
    """A HyperLogLog distinct-count sketch over 64-bit hashes (``2**bits`` one-byte registers)."""

    def __init__(self, bits: int = HLL_BITS) -> None:
        self.bits = bits
        self.registers = np.zeros(1 << bits, dtype=np.uint8)

    def add(self, hashes: NDArray[np.uint64]) -> None:
        """Add hashed values."""
        if len(hashes) == 0:
            return
        rest_bits = 64 - self.bits
        index = (hashes >> np.uint64(rest_bits)).astype(np.intp)
        rest = hashes & np.uint64((1 << rest_bits) - 1)
        # rest = m * 2**exp with 0.5 <= m < 1 (exact: rest has at most 50 bits), so the leading zeros of
        # the rest_bits-bit word are rest_bits - exp; rest == 0 gives exp == 0 and rank rest_bits + 1
        _, exp = np.frexp(rest.astype(np.float64))
        rank = (rest_bits + 1 - exp).astype(np.uint8)
        np.maximum.at(self.registers, index, rank)

    def estimate(self) -> int:
        """Return the estimated number of distinct values added."""
        m = float(len(self.registers))
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int64))))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            raw = m * math.log(m / zeros)
        return round(raw)

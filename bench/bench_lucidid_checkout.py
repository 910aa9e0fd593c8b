"""The pandas whole validation of one checkout against another's, on the same 2M ids (nothing is asserted).

    git worktree add /tmp/wt-old aee80d3          # the validator before issue 10 (pandas only)
    PYTHONPATH=/tmp/wt-old python bench/bench_lucidid_checkout.py
    python bench/bench_lucidid_checkout.py        # this checkout

Each run prints the checkout it imported, a bare ``str.fullmatch`` (the baseline of the same run), the whole
``validate_lucid_ids`` and their ratio: compare the ratios of runs made one after the other. The ids are built
here (not imported from ``bench_lucidid``, which puts this checkout first on ``sys.path``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import lucidframes
from lucidframes import validate_lucid_ids

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def make_ids(rows: int, bad_fraction: float, seed: int = 0) -> pd.Series:
    """The ids of ``bench_lucidid.make_ids``: the same seed gives the same cells."""
    rng = np.random.default_rng(seed)
    letters = np.array(list(ALPHABET))[rng.integers(0, len(ALPHABET), size=(rows, 20))]
    ids = letters.view("<U20").ravel().astype(object)
    bad = rng.choice(rows, size=int(rows * bad_fraction), replace=False)
    for k, i in enumerate(bad.tolist()):
        value = ids[i]
        ids[i] = [value[:7] + "0" + value[8:], value[:-1], f" {value}", ids[(i + 1) % rows], None,
                  f"https://qr.lcdg.io/{value}"][k % 6]  # fmt: skip
    return pd.Series(ids, dtype="str", name="lucid_id")


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    """Time the two and print the ratio."""
    ids = make_ids(2_000_000, 0.01)
    bare = best(lambda: ids.str.fullmatch(f"[{ALPHABET}]{{20}}"))
    whole = best(lambda: validate_lucid_ids(ids))
    where = lucidframes.__file__.rsplit("/lucidframes/", 1)[0]
    print(f"{where}: bare fullmatch {bare:.3f} s, validate_lucid_ids {whole:.3f} s, ratio {whole / bare:.2f}x")


if __name__ == "__main__":
    main()

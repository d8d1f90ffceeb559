"""A mirror's dictionary-encoded text columns (suite.logcolumns.CODED_FIELDS) become the same
categories as the decoded strings would: same categories, same order, same codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from suite.analyze.read import logread
from suite.logcolumns import CODED


def chunked(*batches: list[str | None]) -> pa.ChunkedArray:
    """Each batch encoded on its own, as the mirror's writer does: every chunk its own dictionary."""
    return pa.chunked_array([pa.array(b, pa.string()).cast(CODED) for b in batches], CODED)


def decoded_category(col: pa.ChunkedArray, keep: np.ndarray | None, lower: bool) -> pd.Categorical:
    strings = col.cast(pa.string())
    if keep is not None:
        strings = strings.filter(pa.array(keep))
    return logread._category(pc.utf8_lower(strings) if lower else strings)


def same(a: pd.Categorical, b: pd.Categorical) -> bool:
    return (list(a.categories) == list(b.categories) and a.codes.tolist() == b.codes.tolist()
            and a.categories.dtype == b.categories.dtype)


@pytest.mark.parametrize("lower", [False, True])
def test_coded_column_equals_the_category_of_its_strings(lower: bool) -> None:
    col = chunked(["b", "a", None, "b"], ["c", "HIT", "a"], [], ["hit", None, "Hit", "d"])
    rows = len(col)
    for keep in (None, np.ones(rows, dtype=bool), np.array([False, False, True, True, True,
                                                              False, True, True, True, True, False])):
        assert same(logread._coded(col, keep, lower), decoded_category(col, keep, lower))


def test_a_value_seen_only_in_rows_left_out_is_no_category_and_order_follows_the_kept_rows() -> None:
    col = chunked(["warm", "x", "y"], ["y", "x"])
    keep = np.array([False, True, True, True, True])
    got = logread._coded(col, keep)
    assert list(got.categories) == ["x", "y"] and got.codes.tolist() == [0, 1, 1, 0]
    col = chunked(["y", "x"], ["x", "y"])  # the first "y" left out: "x" is now seen first
    got = logread._coded(col, np.array([False, True, True, True]))
    assert list(got.categories) == ["x", "y"] and got.codes.tolist() == [0, 0, 1]


def test_first_appearance_is_found_across_blocks() -> None:
    rng = np.random.default_rng(7)
    values = [f"m{i}" for i in rng.integers(0, 3, 500)] + ["late"] + ["m0"] * 10
    col = chunked(values[:200], values[200:])
    keep = rng.random(len(values)) > 0.2
    keep[500] = True
    got = logread._coded(col, keep)
    assert same(got, decoded_category(col, keep, False))
    # blocks of 16 rows: the one value seen last is still found, in its place
    codes = np.asarray(got.codes, dtype=np.int64)
    assert logread._first_seen(codes, 4, block=16).tolist() == list(range(4))


def test_all_null_and_empty_columns() -> None:
    nulls = chunked([None, None], [None])
    assert same(logread._coded(nulls, None), decoded_category(nulls, None, False))
    empty = pa.chunked_array([], CODED)
    assert same(logread._coded(empty, None), decoded_category(empty, None, False))

"""Building polars columns from the generators' numpy arrays: timestamps, lookups, NULLs and record ids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from data_access.demo.reference import BoolArray, FloatArray, IntArray


def timestamp_column(values: FloatArray) -> pl.Series:
    """Epoch seconds (NaN = NULL) as a naive microsecond datetime column."""
    series = pl.Series(values.astype(np.float64)).fill_nan(None)
    return (series * 1_000_000).cast(pl.Int64).cast(pl.Datetime("us"))


def null_unless(values: pl.Series, keep: BoolArray) -> pl.Series:
    """The values where ``keep`` holds, NULL elsewhere."""
    frame = pl.DataFrame({"v": values, "k": pl.Series(keep, dtype=pl.Boolean)})
    return frame.select(pl.when(pl.col("k")).then(pl.col("v"))).to_series()


def lookup_column(names: Sequence[str], index: IntArray) -> pl.Series:
    """Look up a string per row by index, via a categorical-free gather (fast, no Python loop)."""
    return pl.Series(list(names), dtype=pl.String).gather(pl.Series(index.astype(np.int64)))


def with_ids(frame: pl.DataFrame, time_column: str, id_column: str, prefix: str, first_seq: int) -> pl.DataFrame:
    """Sort by time and number rows with a running sequence: e.g. RX2024010500012345.

    The sequence runs across chunks, so ids stay unique even for rows (repeat tickets) whose time
    falls after the chunk that generated them."""
    frame = frame.sort([time_column, "_row"])
    day = pl.col(time_column).dt.strftime("%Y%m%d")
    seq = pl.int_range(first_seq, first_seq + pl.len()).cast(pl.String).str.zfill(8)
    return frame.with_columns(pl.concat_str([pl.lit(prefix), day, seq]).alias(id_column))

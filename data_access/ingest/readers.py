"""Reading source files in bounded batches: CSV (any common encoding), XLSX, Parquet, Open311 JSON.

Every batch is a polars DataFrame with the source's columns (text, except typed Parquet columns) and
``_row``, the 1-based number of the data record in the file (1 = the first record after the header),
which is what the quarantine file reports. Memory is bounded by the batch size for every format:
Open311 JSON is streamed (ijson), twice: once for the field names, once for the rows.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import polars as pl

from data_access.ingest.mapping import SourceOptions

ROW = "_row"
SAMPLE_BYTES = 1 << 20
TRANSCODE_CHUNK = 4 << 20
FORMAT_BY_SUFFIX = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".json": "open311"}


class SourceProblem(Exception):
    """A source file that cannot be read as the mapping says (format, encoding, header)."""


def file_format(path: Path, options: SourceOptions) -> str:
    if options.format:
        return options.format
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise SourceProblem(f"{path}: cannot tell the format from the extension; set [source] format")
    return fmt


def _utf8_prefix_ok(sample: bytes) -> bool:
    """True when the sample is UTF-8, allowing a multi-byte character cut at the sample's end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """``utf-8``, ``utf-8-sig`` (BOM), ``utf-16`` (BOM), ``gb18030`` (GBK/GB2312 superset), or a guess."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _utf8_prefix_ok(sample):
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - charset-normalizer ships with requests/streamlit
        raise SourceProblem(f"{path}: not UTF-8 or GB18030; set [source] encoding") from None
    best = from_bytes(sample).best()
    if best is None:
        raise SourceProblem(f"{path}: cannot detect the text encoding; set [source] encoding")
    return str(best.encoding)


def _canonical(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise SourceProblem(f"unknown encoding {encoding!r} in [source] encoding") from exc


@contextmanager
def utf8_csv(path: Path, options: SourceOptions) -> Iterator[tuple[Path, str]]:
    """The CSV as a UTF-8 file (the file itself, or a temporary transcoded copy) and its encoding."""
    encoding = detect_encoding(path) if options.encoding == "auto" else _canonical(options.encoding)
    if _canonical(encoding) in ("utf-8", "utf-8-sig"):
        yield path, encoding
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with tempfile.TemporaryDirectory(prefix="cockpit-ingest-") as folder:
        target = Path(folder) / "utf8.csv"
        try:
            with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
                while chunk := source.read(TRANSCODE_CHUNK):
                    out.write(decoder.decode(chunk))
                out.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            raise SourceProblem(f"{path}: not valid {encoding} at byte {exc.start}; set [source] encoding") from exc
        yield target, encoding


def _scan_csv(path: Path, options: SourceOptions) -> pl.LazyFrame:
    return pl.scan_csv(
        path,
        infer_schema=False,
        separator=options.delimiter,
        null_values=list(options.null_values),
        row_index_name=ROW,
        row_index_offset=1,
    )


def _csv_batches(path: Path, options: SourceOptions, batch_rows: int) -> Iterator[pl.DataFrame]:
    try:
        for batch in _scan_csv(path, options).collect_batches(chunk_size=batch_rows):
            yield batch.with_columns(pl.col(ROW).cast(pl.Int64))
    except pl.exceptions.PolarsError as exc:
        raise SourceProblem(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc


def _cell(value: Any) -> str | None:
    """An XLSX/JSON cell as text: integral floats without '.0', times as 'YYYY-MM-DD HH:MM:SS'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if text.strip() else None


def _rows_to_frame(header: list[str], rows: list[list[str | None]], first_row: int) -> pl.DataFrame:
    data: dict[str, Any] = {name: [row[i] if i < len(row) else None for row in rows] for i, name in enumerate(header)}
    frame = pl.DataFrame(data, schema=dict.fromkeys(header, pl.String()))
    return frame.with_columns(pl.int_range(first_row, first_row + len(rows), dtype=pl.Int64).alias(ROW))


def _xlsx_header_and_rows(path: Path, options: SourceOptions) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise SourceProblem("reading XLSX needs the openpyxl package (pip install openpyxl)") from exc
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, key errors)
        raise SourceProblem(f"{path}: cannot read as XLSX: {exc}") from exc
    if options.sheet and options.sheet not in book.sheetnames:
        raise SourceProblem(f"{path}: no sheet {options.sheet!r} (sheets: {', '.join(book.sheetnames)})")
    sheet = book[options.sheet] if options.sheet else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        raise SourceProblem(f"{path}: the sheet is empty")
    header = [str(v).strip() if v is not None else f"column_{i + 1}" for i, v in enumerate(first)]
    return header, rows


def _xlsx_batches(header: list[str], rows: Iterator[tuple[Any, ...]], batch_rows: int) -> Iterator[pl.DataFrame]:
    batch: list[list[str | None]] = []
    first = 1
    for values in rows:
        batch.append([_cell(v) for v in values])
        if len(batch) == batch_rows:
            yield _rows_to_frame(header, batch, first)
            first += len(batch)
            batch = []
    if batch:
        yield _rows_to_frame(header, batch, first)


def _json_handle(path: Path) -> IO[bytes]:
    """The file opened for ijson, past a UTF-8 byte-order mark if it has one."""
    handle = path.open("rb")
    if handle.read(3) != codecs.BOM_UTF8:
        handle.seek(0)
    return handle


def _open311_prefix(path: Path) -> str:
    """Where the requests are: the top-level array, or the first array value of a top-level object."""
    import ijson

    with _json_handle(path) as handle:
        events = ijson.parse(handle)
        _, event, _ = next(events, ("", None, None))
        if event == "start_array":
            return "item"
        if event == "start_map":
            key = None
            for prefix, event, value in events:
                if prefix == "" and event == "map_key":
                    key = value
                elif event == "start_array" and key is not None and prefix == key and "." not in key:
                    return f"{key}.item"
                elif prefix == "" and event == "end_map":
                    break
    raise SourceProblem(f"{path}: an Open311 file is a JSON array of service requests")


def _open311_records(path: Path, prefix: str) -> Iterator[dict[str, Any]]:
    """The service requests one by one (streamed: memory does not grow with the file)."""
    import ijson

    with _json_handle(path) as handle:
        for index, record in enumerate(ijson.items(handle, prefix, use_float=True), start=1):
            if not isinstance(record, dict):
                raise SourceProblem(f"{path}: request {index} is not a JSON object")
            yield record


def _open311_header(path: Path, prefix: str) -> list[str]:
    """Every field name any request has, in first-seen order (a first streamed pass over the file)."""
    header: dict[str, None] = {}
    for record in _open311_records(path, prefix):
        header.update(dict.fromkeys(record))
    return list(header)


def _open311_batches(path: Path, prefix: str, header: list[str], batch_rows: int) -> Iterator[pl.DataFrame]:
    rows: list[list[str | None]] = []
    first = 1
    try:
        for record in _open311_records(path, prefix):
            rows.append([_cell(record.get(k)) for k in header])
            if len(rows) == batch_rows:
                yield _rows_to_frame(header, rows, first)
                first += len(rows)
                rows = []
    except _json_errors() as exc:
        raise SourceProblem(f"{path}: cannot read as Open311 JSON: {exc}") from exc
    if rows:
        yield _rows_to_frame(header, rows, first)


def _json_errors() -> tuple[type[Exception], ...]:
    import ijson

    return (ijson.JSONError, UnicodeDecodeError)


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pl.DataFrame]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError
        raise SourceProblem(f"{path}: cannot read as Parquet: {exc}") from exc
    first = 1
    for record_batch in parquet.iter_batches(batch_size=batch_rows):
        frame = pl.from_arrow(record_batch)
        assert isinstance(frame, pl.DataFrame)
        yield frame.with_columns(pl.int_range(first, first + frame.height, dtype=pl.Int64).alias(ROW))
        first += frame.height


@dataclass(frozen=True)
class OpenedSource:
    """A source file ready to read: its column names, detected encoding (text formats) and batches."""

    columns: list[str]
    encoding: str | None
    batches: Iterator[pl.DataFrame]


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError
        raise SourceProblem(f"{path}: cannot read as Parquet: {exc}") from exc


@contextmanager
def open_source(path: Path, options: SourceOptions, batch_rows: int) -> Iterator[OpenedSource]:
    """The file's header and a lazy iterator of batches of at most ``batch_rows`` records."""
    if not path.is_file():
        raise SourceProblem(f"{path} does not exist")
    fmt = file_format(path, options)
    if fmt == "csv":
        with utf8_csv(path, options) as (utf8, encoding):
            try:
                names = _scan_csv(utf8, options).collect_schema().names()
            except pl.exceptions.PolarsError as exc:
                raise SourceProblem(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc
            columns = [name for name in names if name != ROW]
            yield OpenedSource(columns, encoding, _csv_batches(utf8, options, batch_rows))
    elif fmt == "xlsx":
        header, rows = _xlsx_header_and_rows(path, options)
        yield OpenedSource(header, None, _xlsx_batches(header, rows, batch_rows))
    elif fmt == "parquet":
        yield OpenedSource(_parquet_columns(path), None, _parquet_batches(path, batch_rows))
    else:
        try:
            prefix = _open311_prefix(path)
            header = _open311_header(path, prefix)
        except _json_errors() as exc:
            raise SourceProblem(f"{path}: cannot read as Open311 JSON: {exc}") from exc
        yield OpenedSource(header, "utf-8", _open311_batches(path, prefix, header, batch_rows))

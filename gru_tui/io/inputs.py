"""Input sequences and states from the command line, files or stdin.

One rule everywhere: rows are timesteps, values within a row are the components. A row is
written inline ("0.5,-0.3,0.8"; rows joined by ";" or newlines), as JSON ([0.5, -0.3, 0.8]
or [[...], [...]]), or read from a .json, .csv (or other text) or .npy file. Every problem
raises :class:`InputError` with one line that says what and where, rows counted from 1.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np

from gru_tui.errors import InputError
from gru_tui.io.files import read_bytes, read_stdin, size_text
from gru_tui.io.layers import first_line

FILE_SUFFIXES = {".json", ".csv", ".tsv", ".txt", ".npy", ".npz"}
MAX_NPY_BYTES = 512 * 1024 * 1024
NPY_MAGIC = b"\x93NUMPY"
# Integers longer than this are read as floats: beyond float64's range they are ±inf (and
# refused as such), and Python's own int parser refuses 4,301 digits or more.
_INT_DIGITS = 300


def read_rows(source: str, option: str = "--inputs") -> np.ndarray:
    """A [T, D] float64 array from inline text, JSON, a file or "-" (stdin)."""
    if source == "-":
        where = f"{option} (stdin)"
        return _parse_text(_decode(read_stdin(where), where), where)
    if _names_a_file(source):
        return _read_file(Path(source), f"{option} {source}")
    return _parse_text(source, option)


def read_row(source: str, option: str) -> np.ndarray:
    """One row (an initial state) in the inline or JSON form, or from a file."""
    rows = read_rows(source, option)
    if len(rows) != 1:
        raise InputError(f"{option} must be one row, got {len(rows)} rows")
    return rows[0]


TOO_DEEP = "nested too deeply to be read"


def parse_json(text: str | bytes, parse_constant=float):
    """JSON as gru-tui reads it, from every source (inputs, sessions, recordings, a lesson's
    messages): NaN and Infinity through `parse_constant` (floats, to be refused with their
    place), integers past float64's range as ±inf, and too deeply nested text a
    JSONDecodeError (TOO_DEEP) like any other invalid text, never a RecursionError."""
    try:
        return json.loads(text, parse_constant=parse_constant, parse_int=_json_int)
    except RecursionError:
        raise json.JSONDecodeError(TOO_DEEP, "", 0) from None


def load_json(text: str, where: str, parse_constant=float):
    """parse_json, with invalid or too deeply nested text refused in one line."""
    try:
        return parse_json(text, parse_constant)
    except json.JSONDecodeError as error:
        if error.msg == TOO_DEEP:
            raise InputError(f"{where} is JSON {TOO_DEEP}") from None
        raise InputError(f"{where} is not valid JSON: {error.msg} at line {error.lineno} "
                         f"column {error.colno}") from None


def check_width(rows: np.ndarray, width: int, where: str, takes: str) -> None:
    """Refuse rows whose width differs from what the model takes."""
    if rows.shape[1] != width:
        row_word = "row 1 has" if len(rows) > 1 else "has"
        hint = ""
        if width == 1 and len(rows) == 1:
            hint = " (one value per row: write 1;0;0 or [[1],[0],[0]])"
        raise InputError(f"{where} {row_word} {rows.shape[1]} values, {takes} {width}{hint}")


# -- where the text comes from --------------------------------------------------------------


def _names_a_file(source: str) -> bool:
    """Whether `source` names a file, from its text alone: the file system is never asked
    about data. A path, a known suffix or a single word that is not a number is a file;
    JSON, lists of values and numbers are data (a file named like data is written ./name)."""
    if "/" in source or "\\" in source or Path(source).suffix.lower() in FILE_SUFFIXES:
        return True
    stripped = source.strip()
    if not stripped or stripped[0] in "[{" or re.search(r"[\s,;]", stripped):
        return False
    return not _is_number(stripped)


def _read_file(path: Path, where: str) -> np.ndarray:
    if path.suffix.lower() == ".npz":
        raise InputError(f"{where}: .npz holds several arrays; save the inputs with np.save (.npy)")
    if path.suffix.lower() == ".npy":
        return _read_npy(read_bytes(path, where, MAX_NPY_BYTES), where)
    return _parse_text(_decode(read_bytes(path, where), where), where, is_file=True)


def _decode(data: bytes | bytearray, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{where} is not a text file (expected JSON, CSV or .npy)") from None


def _read_npy(data: bytes | bytearray, where: str) -> np.ndarray:
    """The array of a .npy file's bytes, its header checked before any value is read."""
    if not data.startswith(NPY_MAGIC):  # else numpy would try it as a pickle
        raise InputError(f"{where} is not a .npy file (no NumPy header)")
    header = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(header)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(header)
    except Exception as error:  # numpy parses the header with ast and tokenize: any failure
        raise InputError(f"{where} is not a readable .npy file (its header: "
                         f"{first_line(error)})") from None
    if dtype.hasobject:
        raise InputError(f"{where} holds Python objects (pickled); refused, gru-tui never "
                         "unpickles")
    if dtype.kind not in "fiu":
        raise InputError(f"{where} holds {dtype} values, expected real numbers")
    if len(shape) not in (1, 2):
        raise InputError(f"{where} has shape {shape}, expected [T, D] (one row per step)")
    count = math.prod(shape)
    stored = len(data) - header.tell()
    if min(shape) < 0 or count * dtype.itemsize > stored:
        raise InputError(f"{where} declares shape {shape} of {dtype}, more than the "
                         f"{size_text(stored)} it holds")
    if count == 0:
        raise InputError(f"{where} holds no values")
    array = np.frombuffer(data, dtype, count, header.tell())
    array = array.reshape((1, *shape) if len(shape) == 1 else shape,
                          order="F" if fortran_order else "C")
    rows = array.astype(np.float64)
    _check_finite(rows, where)
    return rows


# -- parsing text ----------------------------------------------------------------------------


def _parse_text(text: str, where: str, is_file: bool = False) -> np.ndarray:
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{where} is empty")
    if stripped[0] in "[{":
        return _parse_json(stripped, where)
    return _parse_delimited(stripped, where, is_file)


def _parse_json(text: str, where: str) -> np.ndarray:
    data = load_json(text, where)  # NaN and Infinity: refused below with their row and column
    if not isinstance(data, list) or not data:
        raise InputError(f"{where} must be a JSON array of numbers or of rows of numbers")
    rows = data if all(isinstance(item, list) for item in data) else [data]
    values: list[list[float]] = []
    for r, row in enumerate(rows, start=1):
        if not isinstance(row, list):
            raise InputError(f"{where} mixes rows and numbers at row {r}")
        if not row:
            raise InputError(f"{where} row {r} is empty")
        values.append([_json_number(v, where, r, c) for c, v in enumerate(row, start=1)])
    return _rectangular(values, where, [None] * len(values))


def _json_number(value, where: str, row: int, col: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = json.dumps(value)[:20]
        raise InputError(f"{where} row {row} value {col} is not a number: {shown}")
    number = float(value)
    if not math.isfinite(number):
        shown = json.dumps(number)  # NaN, Infinity, -Infinity: as the JSON text wrote them
        raise InputError(f"{where} row {row} value {col} ({shown}) is not a finite number")
    return number


def _parse_delimited(text: str, where: str, is_file: bool) -> np.ndarray:
    """Rows on lines (or split by ";"), values split by commas and/or whitespace."""
    values: list[list[float]] = []
    lines: list[int | None] = []
    raw_lines = text.splitlines() if is_file else re.split(r"[;\n]", text.rstrip("; \n"))
    for line_no, raw in enumerate(raw_lines, start=1):
        line = raw.split("#", 1)[0].strip() if is_file else raw.strip()
        if not line:
            if not is_file:
                raise InputError(f"{where} row {len(values) + 1} is empty")
            continue
        fields = _fields(line)
        if is_file and not values and not any(_is_number(f) for f in fields):
            continue  # a CSV header line
        row = len(values) + 1
        for c, field in enumerate(fields, start=1):
            if not field:
                raise InputError(f"{where} row {row} value {c} is empty")
        values.append([_text_number(f, where, row, c) for c, f in enumerate(fields, start=1)])
        lines.append(line_no if is_file else None)
    if not values:
        raise InputError(f"{where} holds no rows")
    return _rectangular(values, where, lines)


def _fields(line: str) -> list[str]:
    """Values split by commas (an empty one stays, to be refused) or else by whitespace."""
    if "," in line:
        return [field.strip() for field in line.split(",")]
    return line.split()


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _text_number(field: str, where: str, row: int, col: int) -> float:
    try:
        number = float(field)
    except ValueError:
        raise InputError(f"{where} row {row} value {col} is not a number: {field[:20]!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{where} row {row} value {col} ({field[:20]}) is not a finite number")
    return number


def _rectangular(values: list[list[float]], where: str, lines: list[int | None]) -> np.ndarray:
    width = len(values[0])
    for r, row in enumerate(values, start=1):
        if len(row) != width or not row:
            line = f" (line {lines[r - 1]})" if lines[r - 1] not in (None, r) else ""
            raise InputError(f"{where} row {r}{line} has {len(row)} values, row 1 has {width}")
    return np.array(values, dtype=np.float64)


def _check_finite(rows: np.ndarray, where: str) -> None:
    bad = np.argwhere(~np.isfinite(rows))
    if len(bad):
        r, c = (int(i) + 1 for i in bad[0])
        raise InputError(f"{where} row {r} value {c} ({rows[r - 1, c - 1]}) is not a finite number")


def _json_int(text: str) -> int | float:
    return int(text) if len(text) <= _INT_DIGITS else float(text)

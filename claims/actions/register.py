"""Import the register: the people the organisation knows were affected, from CSV.

All or nothing. Every row is checked, each bad one is reported with its line, and
if any is bad nothing is imported. Rows are streamed: checked one by one and
written as they go (COPY on PostgreSQL, batched inserts on SQLite) inside one
transaction that is rolled back if a bad row turns up, so a million-row file needs
neither two passes nor the file in memory. The notice codes seen so far are kept as
integers to catch duplicates, the one thing that grows with the file (~70 MB for a
million rows).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from claims.core import Actor, check_staff
from claims.domain.references import (
    CROCKFORD,
    generate_notice_code,
    normalise_notice_code,
    normalise_postcode,
)
from claims.models import RegisterEntry, Scheme

COLUMNS = ("notice_code", "full_name", "email", "address", "postcode", "external_id")
REQUIRED_COLUMNS = {"full_name", "postcode"}
MAX_REPORTED = 200
_LIMITS = {"full_name": 200, "email": 254, "address": 1000, "postcode": 10, "external_id": 64}
_LENGTH_CHECKS = [
    (COLUMNS.index(name), limit, f"The {name.replace('_', ' ')} is longer than {limit} characters.")
    for name, limit in _LIMITS.items()
]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"[A-Z0-9 ]{2,10}")
_CODE_DIGITS = str.maketrans(CROCKFORD, "0123456789ABCDEFGHIJKLMNOPQRSTUV")
# COPY's text format: these four characters are written as escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_LINE_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r"})
_BATCH = 5000


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    imported: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowError(line, message))


def _code_number(code: str) -> int:
    return int(code.replace("-", "").translate(_CODE_DIGITS), 32)


def _fixed_columns(scheme_id: int) -> dict[str, Any]:
    """Every other column of the register table and the value each new row gets:
    the scheme, the time of the import, and each field's default."""
    now = timezone.now()
    fixed: dict[str, Any] = {}
    for model_field in RegisterEntry._meta.concrete_fields:
        if model_field.primary_key or model_field.attname in COLUMNS:
            continue
        if model_field.attname == "scheme_id":
            value: Any = scheme_id
        elif model_field.name == "created_at":
            value = now
        else:
            value = model_field.get_default()
        fixed[model_field.column] = model_field.get_db_prep_save(value, connection)
    return fixed


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


class _CopyWriter:
    """Rows into PostgreSQL through COPY, in the caller's transaction."""

    def __init__(self, scheme_id: int) -> None:
        fixed = _fixed_columns(scheme_id)
        columns = ", ".join([*COLUMNS, *fixed])
        self.suffix = "".join("\t" + _copy_text(value) for value in fixed.values()) + "\n"
        self.buffer: list[str] = []
        self._cursor = connection.cursor()
        table = RegisterEntry._meta.db_table
        raw = self._cursor.cursor
        # Sent from a thread of psycopg's own, so checking the next rows overlaps with
        # the server taking in the last ones.
        self._copy_context = raw.copy(
            f"COPY {table} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(raw)
        )
        self._copy = self._copy_context.__enter__()

    def write(self, values: tuple[str, ...]) -> None:
        line = "\t".join(values)
        # The whole line escaped at once, not value by value, unless a value holds a tab
        # (which the line cannot tell from the separators).
        if line.count("\t") >= len(values):
            line = "\t".join(value.translate(_COPY_ESCAPES) for value in values)
        elif "\\" in line or "\n" in line or "\r" in line:
            line = line.translate(_COPY_LINE_ESCAPES)
        self.buffer.append(line + self.suffix)
        if len(self.buffer) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self._copy.write("".join(self.buffer))
            self.buffer.clear()

    def close(self) -> None:
        self.flush()
        try:
            self._copy_context.__exit__(None, None, None)
        finally:
            self._cursor.close()

    def abort(self) -> None:
        # Ends the COPY with a failure, so the connection can roll back.
        try:
            refused = RuntimeError("import refused")
            self._copy_context.__exit__(RuntimeError, refused, None)
        except Exception:  # noqa: S110 - the server's "COPY failed" is the point
            pass
        finally:
            self._cursor.close()


class _InsertWriter:
    """Rows in batches through bulk_create (SQLite and any other database)."""

    def __init__(self, scheme_id: int) -> None:
        self.scheme_id = scheme_id
        self.created_at = timezone.now()
        self.buffer: list[RegisterEntry] = []

    def write(self, values: tuple[str, ...]) -> None:
        self.buffer.append(
            RegisterEntry(
                scheme_id=self.scheme_id,
                created_at=self.created_at,
                **dict(zip(COLUMNS, values, strict=True)),
            )
        )
        if len(self.buffer) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            RegisterEntry.objects.bulk_create(self.buffer, batch_size=_BATCH)
            self.buffer.clear()

    def close(self) -> None:
        self.flush()

    def abort(self) -> None:
        self.buffer.clear()


def _lines(reader: Any, rows: Iterable[list[str]]) -> Iterable[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field can span lines)."""
    start = reader.line_num + 1
    for row in rows:
        yield start, row
        start = reader.line_num + 1


def _text(upload: Any) -> IO[str]:
    if isinstance(upload, io.TextIOBase):
        return upload  # type: ignore[return-value]
    # Excel writes a byte-order mark; utf-8-sig drops it. Undecodable bytes become
    # U+FFFD, reported on their line rather than failing the whole file unread. A
    # TextIOWrapper (C) rather than codecs' reader (Python): ten times quicker per line.
    if hasattr(upload, "temporary_file_path"):
        raw: Any = open(upload.temporary_file_path(), "rb")  # noqa: SIM115 - closed with the wrapper
    else:
        raw = getattr(upload, "file", upload)
        raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


@transaction.atomic
def register_import(*, scheme_id: int, upload: IO[Any], actor: Actor) -> ImportResult:
    """Add the rows of a CSV file to a scheme's register, all or none.

    Columns (by header, any order): notice_code (blank: one is generated),
    full_name and postcode (required), email, address, external_id."""
    check_staff(actor, "claims.import_register", doing="importing the register")
    # One import at a time per scheme, so two cannot both pass the duplicate check.
    scheme = Scheme.objects.select_for_update().get(pk=scheme_id)
    result = ImportResult()
    reader = csv.reader(_text(upload))
    try:
        header = next(reader)
    except StopIteration:
        result.add_error(1, "The file is empty.")
        return result
    except csv.Error as error:
        result.add_error(1, f"The file is not readable CSV: {error}.")
        return result
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    missing = REQUIRED_COLUMNS - set(names)
    if unknown or missing or len(set(names)) != len(names):
        problems = []
        if missing:
            problems.append("missing column " + ", ".join(sorted(missing)))
        if unknown:
            problems.append("unknown column " + ", ".join(unknown))
        if len(set(names)) != len(names):
            problems.append("a column appears twice")
        result.add_error(
            1, f"Header: {'; '.join(problems)}. Expected columns: {', '.join(COLUMNS)}."
        )
        return result
    # Where each of COLUMNS is in a row (None: not in this file).
    position = tuple(names.index(name) if name in names else None for name in COLUMNS)
    width = len(names)

    # Read before the COPY starts: while it runs the connection takes no other query.
    existing: set[int] = {
        _code_number(code)
        for code in RegisterEntry.objects.filter(scheme=scheme)
        .values_list("notice_code", flat=True)
        .iterator(chunk_size=20000)
    }
    seen: set[int] = set()
    writer = (
        _CopyWriter(scheme.pk) if connection.vendor == "postgresql" else _InsertWriter(scheme.pk)
    )
    try:
        for line, row in _lines(reader, _checked_rows(reader, result)):
            result.rows += 1
            if len(row) != width:
                if not any(cell.strip() for cell in row):
                    result.rows -= 1  # a blank line
                    continue
                result.add_error(line, f"Expected {width} values, found {len(row)}.")
                continue
            values, problems = _row_values(row, position)
            code = values[0]
            if code:
                number = _code_number(code)
                if number in existing:
                    problems.append(f"Notice code {code} is already on this scheme's register.")
                elif number in seen:
                    problems.append(f"Notice code {code} appears on an earlier line.")
                else:
                    seen.add(number)
            if problems:
                result.add_error(line, " ".join(problems))
                continue
            if not code:
                code = generate_notice_code()
                while (
                    _code_number(code) in seen or _code_number(code) in existing
                ):  # pragma: no cover
                    code = generate_notice_code()
                seen.add(_code_number(code))
            if result.error_count == 0:
                writer.write((code, *values[1:]))
        if result.rows == 0 and result.error_count == 0:
            result.add_error(2, "The file has a header but no rows.")
        if result.error_count == 0:
            writer.close()
            result.imported = result.rows
        else:
            # Nothing half-imported: everything written so far goes with the transaction.
            writer.abort()
            transaction.set_rollback(True)
    except IntegrityError:
        transaction.set_rollback(True)
        result.add_error(0, "Another change to this register clashed with the import; try again.")
    return result


def _checked_rows(reader: Any, result: ImportResult) -> Iterable[list[str]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            result.add_error(reader.line_num, f"Not readable as CSV: {error}.")
            return
        yield row


def _row_values(
    row: list[str], position: tuple[int | None, ...]
) -> tuple[tuple[str, ...], list[str]]:
    problems: list[str] = []
    # Each column's value, stripped; "" for a column the file does not have.
    code_cell, full_name, email, address, postcode_cell, external_id = [
        row[index].strip() if index is not None else "" for index in position
    ]
    code = ""
    if code_cell:
        code = normalise_notice_code(code_cell) or ""
        if not code:
            problems.append("The notice code must be twelve letters and digits.")
    if not full_name:
        problems.append("The full name is missing.")
    if email and not _EMAIL.fullmatch(email):
        problems.append("The email address is not valid.")
    postcode = normalise_postcode(postcode_cell)
    if not postcode:
        problems.append("The postcode is missing.")
    elif not _POSTCODE.fullmatch(postcode):
        problems.append("The postcode is not valid.")
    values = (code, full_name, email, address, postcode, external_id)
    for index, limit, message in _LENGTH_CHECKS:
        if len(values[index]) > limit:
            problems.append(message)
    line = "".join(values)
    if "\x00" in line or "\ufffd" in line:
        problems.append("The row has characters that are not valid UTF-8 text.")
    return values, problems

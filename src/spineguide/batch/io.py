"""Batch input and output: streaming JSONL/Parquet readers, JSONL or partitioned writers, progress.

Readers yield ``(record number, JSON line)`` one record at a time (Parquet is read in row batches
and each row becomes the same JSON object a JSONL line would hold). Writers take output lines in
input order: :class:`JsonlWriter` writes one file (or stdout); :class:`PartsWriter` writes a
directory of ``part-NNNNN.jsonl`` files of at most ``part_size`` records, each renamed into place
when complete, and ``_manifest.json`` last, so a directory with a manifest is a finished run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from spineguide.batch.worker import MAX_LINE_CHARS
from spineguide.errors import InputError

Item = tuple[int, str | None]
InputFormat = Literal["auto", "jsonl", "parquet"]
Layout = Literal["auto", "jsonl", "parts"]
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".txt")
MANIFEST = "_manifest.json"


class Counter:
    """Progress counters the reader updates as it goes (records read, input consumed)."""

    def __init__(self) -> None:
        self.blank_lines = 0
        self.consumed = 0  # characters (JSONL) or rows (Parquet) read so far
        self.total: int | None = None  # size in bytes (JSONL) or rows (Parquet), when known


def input_format(path: str | Path, fmt: InputFormat = "auto") -> Literal["jsonl", "parquet"]:
    """The input's format: as given, or from the file name (.parquet/.pq, else JSONL)."""
    if fmt != "auto":
        return fmt
    return "parquet" if str(path).lower().endswith(PARQUET_SUFFIXES) else "jsonl"


def read_lines(fh: IO[str], counter: Any | None = None) -> Iterator[Item]:
    """Stream (line_no, line) from a text file; over-long lines come back as None, unread."""
    line_no = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        line_no += 1
        if counter is not None and hasattr(counter, "consumed"):
            counter.consumed += len(line)
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            while True:  # skip the rest of the over-long line in bounded pieces
                rest = fh.readline(MAX_LINE_CHARS)
                if counter is not None and hasattr(counter, "consumed"):
                    counter.consumed += len(rest)
                if not rest or rest.endswith("\n"):
                    break
            yield line_no, None
            continue
        if not line.strip():
            if counter is not None:
                counter.blank_lines += 1
            continue
        yield line_no, line


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime,)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def read_parquet(
    path: Path, columns: tuple[str, ...], counter: Counter | None = None, batch_rows: int = 2048
) -> Iterator[Item]:
    """Stream (row number, JSON line) from a Parquet file, reading only the named columns."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(
            f"reading Parquet needs pyarrow ({exc})".replace("\n", " "),
            "install it with: pip install 'spineguide[parquet]', or convert the input to JSONL",
        ) from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        raise InputError(f"{path.name} is not a readable Parquet file: {exc}") from None
    names = set(pf.schema_arrow.names)
    if "id" not in names:
        raise InputError(f"{path.name} has no 'id' column", f"columns: {', '.join(sorted(names))}")
    wanted = [c for c in columns if c in names]
    if counter is not None:
        counter.total = pf.metadata.num_rows
    row = 0
    for batch in pf.iter_batches(batch_size=batch_rows, columns=wanted):
        for rec in batch.to_pylist():
            row += 1
            if counter is not None:
                counter.consumed = row
            data = {k: _jsonable(v) for k, v in rec.items() if v is not None}
            line = json.dumps(data, ensure_ascii=False)
            yield row, (line if len(line) <= MAX_LINE_CHARS else None)


class Writer(Protocol):
    """Takes output lines in input order."""

    def write(self, line: str, ok: bool) -> None:
        """Write one output line."""
        ...

    def close(self, summary: dict[str, Any]) -> None:
        """Finish the output (flush, rename, manifest)."""
        ...


class JsonlWriter:
    """One JSONL file (created on the first line or at close), or stdout for "-"."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._own = self.path != "-"
        self._fh: IO[str] | None = None if self._own else sys.stdout

    def _open(self) -> IO[str]:
        if self._fh is None:
            self._fh = Path(self.path).open("w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        return self._fh

    def write(self, line: str, ok: bool) -> None:
        """Write one output line."""
        fh = self._fh or self._open()
        fh.write(line)
        fh.write("\n")

    def close(self, summary: dict[str, Any] | None = None) -> None:
        """Flush (and close the file)."""
        fh = self._fh or self._open()
        fh.flush()
        if self._own:
            fh.close()


class PartsWriter:
    """A directory of part-NNNNN.jsonl files (each at most `part_size` records) + _manifest.json."""

    def __init__(self, folder: str | Path, part_size: int = 100_000) -> None:
        if part_size < 1:
            raise InputError("--part-size must be at least 1")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"output {self.folder} exists and is not a directory")
        if self.folder.is_dir() and any(
            p.name == MANIFEST or p.name.startswith("part-") for p in self.folder.iterdir()
        ):
            raise InputError(
                f"output directory {self.folder} already holds a batch run",
                "choose a new directory or delete the old parts and manifest",
            )
        if not self.folder.parent.exists():
            raise InputError(f"output folder does not exist: {self.folder.parent}")
        self.part_size = part_size
        self.parts: list[dict[str, Any]] = []
        self._fh: IO[str] | None = None
        self._tmp: Path | None = None
        self._hash = hashlib.sha256()
        self._n = 0
        self._errors = 0

    def _open(self) -> None:
        self.folder.mkdir(exist_ok=True)  # on the first record: a failed start leaves nothing
        name = f"part-{len(self.parts):05d}.jsonl"
        self._tmp = self.folder / f".{name}.tmp"
        self._fh = self._tmp.open("w", encoding="utf-8")
        self._hash = hashlib.sha256()
        self._n = self._errors = 0

    def _finish_part(self) -> None:
        if self._fh is None or self._tmp is None:
            return
        self._fh.close()
        name = f"part-{len(self.parts):05d}.jsonl"
        os.replace(self._tmp, self.folder / name)
        self.parts.append(
            {
                "file": name,
                "records": self._n,
                "errors": self._errors,
                "sha256": self._hash.hexdigest(),
            }
        )
        self._fh = self._tmp = None

    def write(self, line: str, ok: bool) -> None:
        """Write one output line, starting a new part when the current one is full."""
        if self._fh is None:
            self._open()
        assert self._fh is not None
        data = line + "\n"
        self._fh.write(data)
        self._hash.update(data.encode("utf-8"))
        self._n += 1
        self._errors += 0 if ok else 1
        if self._n >= self.part_size:
            self._finish_part()

    def close(self, summary: dict[str, Any]) -> None:
        """Finish the last part and write the manifest (atomically, last)."""
        self._finish_part()
        self.folder.mkdir(exist_ok=True)
        manifest = {
            **summary,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "parts": self.parts,
        }
        tmp = self.folder / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.folder / MANIFEST)


def output_layout(path: str | Path, layout: Layout = "auto") -> Literal["jsonl", "parts"]:
    """Where results go: one JSONL file ("-", *.jsonl/.json/.ndjson) or a directory of parts."""
    if layout != "auto":
        return layout
    p = str(path)
    if p == "-" or p.lower().endswith(JSONL_SUFFIXES):
        return "jsonl"
    return "parts"


def read_parts(folder: str | Path) -> Iterator[str]:
    """The output lines of a partitioned run, in order (checks the manifest and part hashes)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder} has no readable {MANIFEST}: the run did not finish") from exc
    for part in manifest["parts"]:
        data = (folder / part["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != part["sha256"]:
            raise InputError(f"{part['file']} does not match its checksum in {MANIFEST}")
        yield from data.decode("utf-8").splitlines()


class Progress:
    """A one-line progress bar on stderr (records, share of input read, rate), redrawn ≤5×/s."""

    def __init__(self, job: str, counter: Counter, stream: IO[str] | None = None) -> None:
        self.job = job
        self.counter = counter
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self._last = 0.0
        self._width = 0
        self.records = 0

    def update(self, records: int) -> None:
        """Note progress; redraw when 0.2 s have passed since the last redraw."""
        self.records = records
        now = time.perf_counter()
        if now - self._last >= 0.2:
            self._last = now
            self._draw(now)

    def _draw(self, now: float, final: bool = False) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.records / elapsed
        total, done = self.counter.total, self.counter.consumed
        if total:
            frac = 1.0 if final else min(done / total, 0.999)
            width = 24
            fill = int(frac * width)
            bar = f"[{'#' * fill}{'.' * (width - fill)}] {frac:4.0%} "
        else:
            bar = ""
        text = f"{self.job}: {bar}{self.records:,} records {rate:,.0f}/s {elapsed:,.0f} s"
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        self._draw(time.perf_counter(), final=True)
        self.stream.write("\n")
        self.stream.flush()

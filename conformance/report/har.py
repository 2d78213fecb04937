"""Every exchange of a run as a HAR 1.2 file, written as it happens, secrets masked.

Each entry sits on one line of the file and names, in its ``_evs`` field, the requirements it served and
the test that sent it. Writing is streaming and thread-safe; a file whose run was cut short still reads
back entry by entry (``entries``). pytest-xdist workers each write a part; ``merge_parts`` joins them.

Example::

    har = HarWriter(reports / "exchanges.har", redact=redactor)
    har.add(exchange, requirements=("REQ-NAME", "RSP-NO-5XX"), test="test_properties.py::test_name")
    har.close()
    for entry in entries(reports / "exchanges.har"):
        entry["_evs"]["requirements"]
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from conformance import __version__
from conformance.core.exchange import Exchange
from conformance.core.recording import har_entry

FILENAME = "exchanges.har"
#: The HAR custom field (HAR allows fields starting with ``_``) naming what an entry served.
FIELD = "_evs"
_ENTRIES_OPEN = '"entries": ['
_CLOSE = "]}}\n"


def _preamble(comment: str) -> str:
    log = {"version": "1.2", "creator": {"name": "evs-conformance", "version": __version__}, "pages": []}
    if comment:
        log["comment"] = comment
    head = json.dumps({"log": log}, ensure_ascii=False)
    # The entries list opens on its own line so that each entry can follow on a line of its own.
    return head[: -len("}}")] + ", " + _ENTRIES_OPEN + "\n"


class HarWriter:
    """Appends exchanges to a HAR file as they come, from any thread; ``close`` ends the JSON document.

    ``redact`` masks secrets in every text of an entry (exchanges arrive masked; this is a second guard).
    """

    def __init__(self, path: Path, redact: Callable[[str], str] | None = None, *, comment: str = "") -> None:
        self.path = path
        self.redact = redact
        self.count = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = path.open("w", encoding="utf-8")
        self._file.write(_preamble(comment))
        self._file.flush()

    def add(
        self,
        exchange: Exchange,
        *,
        requirements: Collection[str],
        test: str,
        failed: Collection[str] = (),
        started: datetime | None = None,
    ) -> None:
        """Append one exchange, naming the requirements it served, those it broke, and its test."""
        served: dict[str, Any] = {"requirements": sorted(requirements), "test": test}
        if failed:
            served["failed"] = sorted(failed)
        entry = har_entry(exchange, redact=self.redact, started=started, extra={FIELD: served})
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            if self._file is None:
                raise ValueError(f"{self.path} is closed")
            self._file.write(("," if self.count else "") + line + "\n")
            self.count += 1

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        """Finish the JSON document; further ``add`` calls raise ValueError."""
        with self._lock:
            if self._file is None:
                return
            self._file.write(_CLOSE)
            self._file.close()
            self._file = None

    def __enter__(self) -> HarWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def entries(path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a HAR file this module wrote, one at a time (also of a file left unfinished)."""
    with path.open(encoding="utf-8") as handle:
        started = False
        for line in handle:
            if not started:
                started = line.rstrip().endswith(_ENTRIES_OPEN)
                continue
            text = line.strip().removeprefix(",")
            if not text.startswith("{"):
                continue
            try:
                yield json.loads(text)
            except ValueError:
                # The last line of a run that was killed while writing it.
                return


def merge_parts(parts: Iterable[Path], output: Path, *, comment: str = "") -> int:
    """Join the HAR files of several processes into ``output``, streaming; returns the entries written."""
    written = 0
    with output.open("w", encoding="utf-8") as handle:
        handle.write(_preamble(comment))
        for part in parts:
            for entry in entries(part):
                handle.write(("," if written else "") + json.dumps(entry, ensure_ascii=False) + "\n")
                written += 1
        handle.write(_CLOSE)
    return written


def by_requirement(path: Path) -> Mapping[str, int]:
    """How many exchanges of a HAR file served each requirement."""
    counts: dict[str, int] = {}
    for entry in entries(path):
        for requirement in entry.get(FIELD, {}).get("requirements", ()):
            counts[requirement] = counts.get(requirement, 0) + 1
    return counts

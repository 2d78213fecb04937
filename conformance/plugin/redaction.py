"""Keeping secrets out of everything a run writes: test reports, exception messages, files on disk.

Every writer masks with ``conformance.core.redaction.redact``; this module covers what passes through pytest
(a failure's text reaches the terminal, JUnit and Allure from the test report and the exception) and, as a
last line, rewrites the files the run wrote that still hold a secret.

Example::

    redactor = Redactor(lambda: target.secrets())
    redactor("token s3cret-value") == "token ***"
    scrub_listed(reports.written_files(), redactor)     # only files the run wrote
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from conformance.core.redaction import MIN_SECRET_LENGTH, redact_bytes
from conformance.core.redaction import redact as _redact


class Redactor:
    """Masks the current secrets (asked of ``secrets`` on every call, since tokens are renewed).

    Secrets shorter than ``MIN_SECRET_LENGTH`` are masked only where a whole value is the secret.
    """

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        self._secrets = secrets

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in self._secrets() if s)

    def __call__(self, text: str) -> str:
        secrets = self.secrets()
        if not secrets or not text:
            return text
        return _redact(text, secrets)

    def redact_bytes(self, data: bytes) -> bytes:
        """``data`` with the current secrets masked; bytes that are not UTF-8 are kept as they were."""
        secrets = self.secrets()
        return redact_bytes(data, secrets) if secrets and data else data

    def holds_secret(self, text: str) -> bool:
        return self(text) != text


def redact_test_report(report: pytest.TestReport, call: pytest.CallInfo[Any], redactor: Redactor) -> None:
    """Mask secrets in what pytest, JUnit and Allure show of a test phase: its failure, skip and output."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        path, line, reason = longrepr
        report.longrepr = (path, line, redactor(reason))
    elif longrepr is not None:
        text = report.longreprtext
        if redactor.holds_secret(text):
            # The structured form cannot be edited in place; the masked text renders the same way.
            report.longrepr = redactor(text)
    report.sections = [(title, redactor(content)) for title, content in report.sections]
    if call.excinfo is not None:
        redact_exception(call.excinfo.value, redactor)


def redact_exception(exc: BaseException, redactor: Redactor) -> None:
    """Mask secrets in an exception's message in place (Allure reads it from the exception)."""
    message = getattr(exc, "msg", None)
    if isinstance(message, str) and redactor.holds_secret(message):
        exc.msg = redactor(message)  # type: ignore[attr-defined]
    if any(isinstance(arg, str) and redactor.holds_secret(arg) for arg in exc.args):
        exc.args = tuple(redactor(arg) if isinstance(arg, str) else arg for arg in exc.args)


def scrub_files(roots: Iterable[Path], redactor: Redactor) -> list[Path]:
    """Rewrite every file under ``roots`` (files or directories) that holds a secret; the files rewritten.

    Walks whole directories, so it may only be given directories the run owns; ``scrub_listed`` takes the
    exact files instead.
    """
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file())
    return scrub_listed(files, redactor)


def scrub_listed(files: Iterable[Path], redactor: Redactor) -> list[Path]:
    """Rewrite each of ``files`` that holds a secret, and nothing else; the files rewritten.

    A name that is a symbolic link or not a regular file (a FIFO, a device) is left alone, so a scrub can
    neither follow a link out of the run's folder nor hang on a pipe.
    """
    if not redactor.secrets():
        return []
    rewritten: list[Path] = []
    for path in files:
        try:
            status = path.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(status.st_mode):
            continue
        raw = _read_regular(path)
        if raw is None:
            continue
        masked = redactor.redact_bytes(raw)
        if masked != raw:
            path.write_bytes(masked)
            rewritten.append(path)
    return rewritten


def _read_regular(path: Path) -> bytes | None:
    # O_NOFOLLOW: a link swapped in after the check above is not followed either.
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read()


__all__ = [
    "MIN_SECRET_LENGTH",
    "Redactor",
    "redact_exception",
    "redact_test_report",
    "scrub_files",
    "scrub_listed",
]

"""Keeping secrets out of everything a run writes: test reports, exception messages, files on disk.

Every writer masks with ``conformance.auth.redact``; this module covers what passes through pytest (a
failure's text reaches the terminal, JUnit and Allure from the test report and the exception) and, as a last
line, rewrites any file under the run's output directories that still holds a secret.

Example::

    redactor = Redactor(lambda: target.secrets())
    redactor("token abc") == "token ***"
    scrub_files([reports_dir], redactor)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from conformance.auth import redact

#: Values shorter than this are not masked: masking them would garble every artefact (a one-letter test
#: "token" occurs in every word), and no real token or IAM password is that short.
MIN_SECRET_LENGTH = 8


class Redactor:
    """Masks the current secrets (asked of ``secrets`` on every call, since tokens are renewed)."""

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        self._secrets = secrets

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in self._secrets() if len(s) >= MIN_SECRET_LENGTH)

    def __call__(self, text: str) -> str:
        secrets = self.secrets()
        if not secrets or not text:
            return text
        return redact(text, secrets)

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
    """Rewrite every file under ``roots`` (files or directories) that holds a secret; the files rewritten."""
    if not redactor.secrets():
        return []
    rewritten: list[Path] = []
    for root in roots:
        files = (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.is_file())
            if root.is_dir()
            else []
        )
        for path in files:
            raw = path.read_bytes()
            # surrogateescape keeps bytes that are not UTF-8 as they were.
            text = raw.decode("utf-8", "surrogateescape")
            masked = redactor(text)
            if masked != text:
                path.write_bytes(masked.encode("utf-8", "surrogateescape"))
                rewritten.append(path)
    return rewritten

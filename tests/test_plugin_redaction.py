"""The plugin's masking: the Redactor, and scrubbing an explicit list of files and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

from conformance.plugin.redaction import Redactor, scrub_files, scrub_listed

SECRET = "s3cret-token-value"


def test_the_redactor_masks_long_secrets_in_text_and_short_ones_only_whole() -> None:
    redactor = Redactor(lambda: [SECRET, "on", ""])
    assert redactor(f"Connection refused with {SECRET}") == "Connection refused with ***"
    assert redactor("on") == "***"
    assert redactor.redact_bytes(b"\xff " + SECRET.encode()) == b"\xff ***"
    assert Redactor(list)("anything") == "anything"


def test_scrub_listed_rewrites_only_the_files_it_is_given(tmp_path: Path) -> None:
    given = tmp_path / "given.txt"
    given.write_bytes(b"\xfe keep these bytes " + SECRET.encode())
    other = tmp_path / "other.txt"
    other.write_text(SECRET)
    clean = tmp_path / "clean.txt"
    clean.write_text("nothing secret")
    link = tmp_path / "link.txt"
    link.symlink_to(other)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    rewritten = scrub_listed([given, clean, link, fifo, tmp_path / "missing"], Redactor(lambda: [SECRET]))
    assert rewritten == [given]
    assert given.read_bytes() == b"\xfe keep these bytes ***"
    assert other.read_text() == SECRET
    assert clean.read_text() == "nothing secret"


def test_scrub_files_still_walks_the_directories_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    inner = tmp_path / "sub" / "inner.txt"
    inner.write_text(f"token {SECRET}")
    assert scrub_files([tmp_path], Redactor(lambda: [SECRET])) == [inner]
    assert inner.read_text() == "token ***"

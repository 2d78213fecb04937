"""Generated hostile files for the waiver loader and ``compare``: exit 0, 1 or 2, one clean answer, bounded.

The commands run in a child process (``tests/cli_harness.py``) under a memory and CPU limit, each with a
wall-clock timeout: a command that hangs on a pipe, expands an alias bomb or reads ``/dev/zero`` into memory
fails the test instead of the machine. Nothing here times anything.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import resource
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.contract.requirements import load_requirements
from conformance.report.compare import MAX_REPORT_BYTES
from conformance.run.waivers import MAX_WAIVER_BYTES

ROOT = Path(__file__).resolve().parent.parent
#: Bounds of the child: address space, CPU seconds in all, wall seconds per command.
MEMORY_BYTES = 2 * 1024**3
CPU_SECONDS = 900
COMMAND_SECONDS = 60
#: What may not reach a terminal from a file: controls (line breaks aside) and bidi overrides.
UNSAFE_OUTPUT = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
KNOWN_IDS = sorted(requirement.id for requirement in load_requirements())
VERDICT_WORDS = ["pass", "fail", "skip", "info", "waived", "FAIL", "Pass", "failed", "", "absent"]
SPECIAL_FILES = ["fifo", "/dev/zero", "folder", "missing", "sparse-huge"]
hostile = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


class Harness:
    """The child that runs commands; restarted after a command it had to be killed for."""

    def __init__(self) -> None:
        self._process = self._start()

    @staticmethod
    def _start() -> subprocess.Popen[str]:
        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))

        return subprocess.Popen(
            [sys.executable, "-m", "tests.cli_harness"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=limit,
        )

    def run(self, *argv: str) -> dict[str, Any]:
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(list(argv)) + "\n")
        process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=COMMAND_SECONDS)
        if not ready:
            self.close()
            self._process = self._start()
            pytest.fail(f"{argv} took more than {COMMAND_SECONDS} s")
        line = process.stdout.readline()
        if not line:
            code = process.wait()
            self._process = self._start()
            pytest.fail(f"{argv} killed the process (status {code}: a resource limit?)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        self._process.kill()
        self._process.wait()


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    child = Harness()
    yield child
    child.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


_names = itertools.count()


def assert_clean(answer: dict[str, Any]) -> None:
    assert answer["exception"] is None, answer["exception"]
    assert answer["exit"] in (0, 1, 2), answer
    output = answer["output"]
    assert "Traceback" not in output
    assert UNSAFE_OUTPUT.search(output) is None, output[:500]


def materialise(folder: Path, content: str | bytes, suffix: str) -> Path:
    """A file holding ``content``, or one of the special files named in SPECIAL_FILES."""
    path = folder / f"{next(_names)}{suffix}"
    if content == "fifo":
        os.mkfifo(path)
    elif content == "/dev/zero":
        return Path("/dev/zero")
    elif content == "folder":
        path.mkdir()
    elif content == "missing":
        pass
    elif content == "sparse-huge":
        # Larger than any limit without writing a byte: a sparse file.
        with path.open("wb") as handle:
            handle.truncate(MAX_REPORT_BYTES + MAX_WAIVER_BYTES + 1)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
    return path


# -- generated content --------------------------------------------------------------------------------------
def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join([*lines, f"waivers: *a{levels - 1}", ""])


def nested(depth: int, opening: str, closing: str) -> str:
    return opening * depth + closing * depth


texts = st.text(max_size=40)
scalars = st.one_of(
    texts.map(json.dumps),
    texts,
    st.integers().map(str),
    st.sampled_from(
        ["~", "null", "true", "2027-13-45", "2027-02-30", "0000-01-01", "2999-12-31", "9" * 5000]
    ),
    st.builds("{}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)),
)
entries = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(KNOWN_IDS), texts).map(json.dumps), "reason": scalars},
    optional={"expires": scalars, "extra": scalars},
).map(lambda entry: "  - {" + ", ".join(f"{key}: {value}" for key, value in entry.items()) + "}\n")
waiver_files = st.one_of(
    st.lists(entries, max_size=5).map(lambda items: "waivers:\n" + "".join(items)),
    st.text(alphabet=st.sampled_from(list("waivers:-[]{}&*!|>'\"#\n\t ?,id")), max_size=200),
    st.text(max_size=200),
    st.binary(max_size=300),
    st.integers(2, 12).map(alias_bomb),
    st.integers(1, 200_000).map(lambda depth: "waivers: " + nested(depth, "[", "]")),
    st.integers(MAX_WAIVER_BYTES - 10, MAX_WAIVER_BYTES + 10).map(lambda size: "#" * size),
    st.sampled_from(SPECIAL_FILES),
)

requirement_rows = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(KNOWN_IDS), texts),
        "verdict": st.one_of(st.sampled_from(VERDICT_WORDS), texts, st.integers(), st.none()),
    },
    optional={"title": st.one_of(texts, st.integers(), st.lists(st.integers(), max_size=3))},
)
report_data = st.fixed_dictionaries(
    {
        "profile": st.one_of(st.just("huawei"), texts),
        "requirements": st.lists(requirement_rows, max_size=6),
    },
    optional={
        "verdict": st.sampled_from(["pass", "fail", "FAIL", "", None]),
        "api_version": st.none() | texts,
    },
)
report_files = st.one_of(
    st.tuples(report_data, st.booleans()).map(lambda pair: json.dumps(pair[0], ensure_ascii=pair[1])),
    st.text(max_size=200),
    st.binary(max_size=300),
    st.integers(1, 300_000).map(lambda depth: '{"profile": "huawei", "x": ' + nested(depth, "[", "]") + "}"),
    st.just('{"profile": "huawei", "requirements": [{"id": "\\ud800", "verdict": "fail"}]}'),
    st.sampled_from(SPECIAL_FILES),
)


@hostile
@given(content=waiver_files)
def test_any_waiver_file_gets_a_clean_answer(harness: Harness, folder: Path, content: str | bytes) -> None:
    waivers = materialise(folder, content, ".yaml")
    # A waiver file that reads well lets the run go on to a target that is not there: exit 2 at once.
    answer = harness.run(
        "run",
        "--reports", str(folder / "reports"),
        "--waivers", str(waivers),
        "--base-url", "http://127.0.0.1:9",
        "--project-id", "p", "--volume-id", "v", "--token", "a-token-for-nothing",
        "--timeout", "5",
    )  # fmt: skip
    assert_clean(answer)
    assert answer["exit"] == 2


@hostile
@given(old=report_files, new=report_files, as_json=st.booleans())
def test_any_pair_of_reports_gets_a_clean_answer(
    harness: Harness, folder: Path, old: str | bytes, new: str | bytes, as_json: bool
) -> None:
    paths = [str(materialise(folder, content, ".json")) for content in (old, new)]
    answer = harness.run("compare", *(["--json"] if as_json else []), *paths)
    assert_clean(answer)


def test_the_harness_reports_a_traceback_and_a_hang(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    import click

    from tests import cli_harness

    @click.command()
    def broken() -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(cli_harness, "cli", broken)
    answer = cli_harness.run([])
    assert answer["exit"] == 1
    assert "ValueError: a bug" in answer["exception"]
    with pytest.raises(AssertionError, match="Traceback"):
        assert_clean({**answer, "exception": None, "output": answer["exception"]})
    with pytest.raises(AssertionError):
        assert_clean({"exit": 2, "output": "evs-conformance: error: \x1b]0;x\x07", "exception": None})

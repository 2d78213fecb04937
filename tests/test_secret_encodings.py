"""End to end: a target that echoes the token and the password in every encoding, and no artefact holds one.

The server is the independent one (``tests/servers/alt_server.py``), unchanged, with a request handler on top
that answers every request with the secrets it can see (the token it was sent, the password it knows)
spelt every way ``tests.secret_forms`` knows: in the JSON body, and in response headers. It also serves
``POST /v3/auth/tokens`` so a run can use password authentication and be issued tokens with characters
that encode differently. After each run, every file under the reports folder and the console output are
searched for every spelling of every secret, and decoded every way, and must hold none.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.runs import run_command
from tests.secret_forms import encodings, leaks
from tests.servers.alt_backend import Backend, Reply, Rules, Volume
from tests.servers.alt_server import DEFAULT_PROJECT_ID, DEFAULT_VOLUMES, _Handler, _Server

#: A token with the characters that encode differently: '/', '+', '%', '=', ':'.
TOKEN = "tok/EVS+9%41=ab:cd-0b6c3e1f9a2d"
#: A password with quotes, a backslash-free non-ASCII mix, and the same URL-special characters.
PASSWORD = "pässwörd\"€/+%:quote's-8c3b"
USER = "evs-tester"
#: What the identity service hands out, in order (a run may renew its token once after a 401).
ISSUED = ("iam/tok+A%2F=1-5e1f0c2a9b7d", "iam/tok+B%2F=2-4e3f8a6c1b0d", "iam/tok+C%2F=3-2e4f6a8c0000")


class _EchoingServer(_Server):
    password: str
    issued: Iterator[str]
    echoes: int


class EchoingHandler(_Handler):
    """The independent server's handler, answering with every secret it can see in every encoding."""

    server: _EchoingServer

    def _dispatch(self) -> None:
        if self.command == "POST" and self.path.split("?", 1)[0] == "/v3/auth/tokens":
            self._issue()
            return
        super()._dispatch()

    def _issue(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            user = json.loads(body)["auth"]["identity"]["password"]["user"]
            accepted = user["name"] == USER and user["password"] == self.server.password
        except (ValueError, KeyError, TypeError):
            accepted = False
        if not accepted:
            self._write(
                Reply(401, {"error": {"code": 401, "message": "wrong user or password"}}), closing=False
            )
            return
        token = next(self.server.issued)
        payload = {"token": {"expires_at": "2999-01-01T00:00:00.000000Z", "methods": ["password"]}}
        self._write(Reply(201, payload, {"X-Subject-Token": token}), closing=False)

    def _write(self, reply: Reply, *, closing: bool) -> None:
        secrets = [s for s in (self.headers.get("X-Auth-Token") or "", self.server.password) if len(s) >= 8]
        spellings = [
            (f"{n}-{name}", form) for n, s in enumerate(secrets) for name, form in encodings(s).items()
        ]
        self.server.echoes += 1
        payload = _with_placeholders(reply.payload)
        # Each spelling goes into the body byte for byte, where a JSON string can hold it unchanged: in an
        # extra member, and instead of a snapshot's description or an error's message, so that failing
        # checks (the echo of the description) quote it in their messages, reproductions and reports.
        echo = " ".join(form for _, form in spellings if _fits_json(form))
        document = json.dumps(payload, ensure_ascii=False).replace(json.dumps(_PLACEHOLDER), f'"{echo}"')
        data = (document[:-1] + (", " if payload else "") + f'"echo": "{echo}"}}').encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", self._media_type())
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        for name, form in spellings:
            if form.isascii() and form.isprintable():
                self.send_header(f"X-Echo-{name}", form)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


_PLACEHOLDER = "\x00echo\x00"


def _with_placeholders(payload: object) -> dict[str, object]:
    if not isinstance(payload, dict):
        return {}
    changed = json.loads(json.dumps(payload))
    for member in ("snapshot", "error"):
        inner = changed.get(member)
        if isinstance(inner, dict):
            inner["description" if member == "snapshot" else "message"] = _PLACEHOLDER
    for snapshot in changed.get("snapshots", []):
        snapshot["description"] = _PLACEHOLDER
    return changed


def _fits_json(form: str) -> bool:
    try:
        json.loads(f'"{form}"')
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class EchoingTarget:
    base_url: str
    project_id: str
    available_volume_id: str
    in_use_volume_id: str
    server: _EchoingServer


@contextmanager
def echoing_target() -> Iterator[EchoingTarget]:
    volumes = [Volume(volume_id, status, size) for volume_id, status, size in DEFAULT_VOLUMES]
    tokens = dict.fromkeys((TOKEN, *ISSUED), DEFAULT_PROJECT_ID)
    backend = Backend(
        Rules.for_profile("huawei"), project_id=DEFAULT_PROJECT_ID, tokens=tokens, volumes=volumes
    )
    server = _EchoingServer(backend)
    server.RequestHandlerClass = EchoingHandler
    server.password = PASSWORD
    server.issued = itertools.chain(ISSUED, itertools.repeat(ISSUED[-1]))
    server.echoes = 0
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield EchoingTarget(
            base_url=f"http://127.0.0.1:{server.socket.getsockname()[1]}",
            project_id=DEFAULT_PROJECT_ID,
            available_volume_id=DEFAULT_VOLUMES[0][0],
            in_use_volume_id=DEFAULT_VOLUMES[1][0],
            server=server,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def artefacts(reports: Path, result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Every file the run left under ``reports``, and what it printed, as text."""
    texts = {
        str(path.relative_to(reports)): path.read_bytes().decode("utf-8", "replace")
        for path in reports.rglob("*")
        if path.is_file()
    }
    texts["<stdout>"] = result.stdout
    texts["<stderr>"] = result.stderr
    return texts


def found(texts: dict[str, str], secrets: tuple[str, ...]) -> list[str]:
    """Where any spelling of any secret can still be read: ``artefact: secret's spelling``."""
    problems = []
    for secret in secrets:
        spellings = encodings(secret)
        for name, text in texts.items():
            problems += [f"{name}: {kind}" for kind, form in spellings.items() if form in text]
            problems += [f"{name}: read as {reading}" for reading in leaks(text, secret)]
    return problems


def assert_echoes_reached_the_artefacts(target: EchoingTarget, texts: dict[str, str]) -> None:
    # The server did echo, and the echoes were recorded (masked): the search below searched something.
    assert target.server.echoes > 50
    assert any("x-echo-0-base64" in text for text in texts.values())
    assert any('"echo": "***' in text for name, text in texts.items() if name.startswith("allure-results"))


def test_a_token_echoed_in_every_encoding_appears_in_no_artefact(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with echoing_target() as target:
        result = run_command(
            target, reports, "--token", TOKEN, "--cleanup-timeout", "5", env={}, timeout_s=600
        )
    # The echoed description fails checks, so the failure paths (messages, reproductions) wrote too.
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    texts = artefacts(reports, result)
    assert len(texts) > 10
    assert "failure" in texts["junit.xml"]
    assert_echoes_reached_the_artefacts(target, texts)
    # The password is no secret of this run (it never had it), so only the token is searched for.
    assert found(texts, (TOKEN,)) == []


def test_a_password_and_issued_tokens_echoed_in_every_encoding_appear_in_no_artefact(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with echoing_target() as target:
        auth = ["--iam-url", f"{target.base_url}/v3", "--username", USER, "--domain", "Default"]
        result = run_command(target, reports, *auth, "--cleanup-timeout", "5", env={"EVS_PASSWORD": PASSWORD})
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    texts = artefacts(reports, result)
    assert_echoes_reached_the_artefacts(target, texts)
    assert found(texts, (PASSWORD, *ISSUED)) == []


@pytest.mark.parametrize("secret", [TOKEN, PASSWORD, ISSUED[0]])
def test_the_search_finds_each_spelling_it_looks_for(secret: str) -> None:
    # The search above must be able to fail: every spelling the server echoes is found in a text.
    for kind, form in encodings(secret).items():
        assert found({"page": f"<p>{form}</p>"}, (secret,)), kind

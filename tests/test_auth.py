"""Keystone v3 password authentication, token renewal after a 401, and masking secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from conformance.core.errors import UsageError
from conformance.run.auth import (
    AuthError,
    PasswordCredentials,
    TokenSource,
    fetch_token,
    is_loopback,
    redact,
)

PASSWORD = 'pa"ss/word:7&x'
IAM = "https://iam.example.test/v3"


def identity(
    handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request] | None = None
) -> httpx.Client:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(record))


def issuing(*tokens: str) -> Callable[[httpx.Request], httpx.Response]:
    remaining = list(tokens)

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"token": {"expires_at": "2027-01-02T03:04:05.000000Z", "methods": ["password"]}}
        return httpx.Response(201, json=body, headers={"X-Subject-Token": remaining.pop(0)})

    return handler


def credentials(**changes: object) -> PasswordCredentials:
    values: dict[str, object] = {
        "iam_url": IAM,
        "username": "qa",
        "password": PASSWORD,
        "domain": "qa-domain",
        "project_id": "proj-1",
    }
    values.update(changes)
    return PasswordCredentials(**values)  # type: ignore[arg-type]


def test_fetch_token_posts_the_keystone_password_request_scoped_by_project_id() -> None:
    seen: list[httpx.Request] = []
    with identity(issuing("tok-1"), seen) as client:
        token = fetch_token(client, IAM + "/", username="qa", password=PASSWORD, domain="d", project_id="p1")
    assert token.value == "tok-1"
    assert token.expires_at == datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://iam.example.test/v3/auth/tokens"
    assert json.loads(request.content) == {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "qa", "password": PASSWORD, "domain": {"name": "d"}}},
            },
            "scope": {"project": {"id": "p1"}},
        }
    }


def test_fetch_token_scopes_by_project_name_in_the_users_domain() -> None:
    seen: list[httpx.Request] = []
    with identity(issuing("tok-1"), seen) as client:
        fetch_token(client, IAM, username="qa", password=PASSWORD, domain="d", project_name="eu-west-0")
    scope = json.loads(seen[0].content)["auth"]["scope"]
    assert scope == {"project": {"name": "eu-west-0", "domain": {"name": "d"}}}


def test_a_token_without_expiry_is_still_a_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, text="not json", headers={"X-Subject-Token": "tok-2"})

    with identity(handler) as client:
        token = fetch_token(client, IAM, username="qa", password=PASSWORD, domain="d", project_id="p")
    assert (token.value, token.expires_at) == ("tok-2", None)
    assert "tok-2" not in repr(token)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(401, json={"error": {"code": 401, "message": f"bad password {PASSWORD}"}}),
            r"refused a token for user 'qa' in domain 'qa-domain': 401 bad password \*\*\*$",
        ),
        (httpx.Response(500, text="boom\nstack"), r": 500 boom stack$"),
        (httpx.Response(201, json={"token": {}}), r"answered 201 without an X-Subject-Token header"),
        (
            httpx.Response(307, headers={"Location": "https://elsewhere.test/v3/auth/tokens"}),
            r"redirected to https://elsewhere\.test/v3/auth/tokens; not following it with a password",
        ),
    ],
)
def test_refusals_are_one_line_auth_errors_without_the_password(
    response: httpx.Response, message: str
) -> None:
    with identity(lambda request: response) as client, pytest.raises(AuthError, match=message) as caught:
        fetch_token(client, IAM, username="qa", password=PASSWORD, domain="qa-domain", project_id="p")
    text = str(caught.value)
    assert "\n" not in text
    assert PASSWORD not in text
    assert caught.value.exit_code == 2


def test_an_unreachable_identity_service_is_an_auth_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"connection refused while sending {PASSWORD}", request=request)

    with (
        identity(handler) as client,
        pytest.raises(AuthError, match="cannot reach the identity service") as caught,
    ):
        fetch_token(client, IAM, username="qa", password=PASSWORD, domain="d", project_id="p")
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"project_id": None}, "exactly one of a project ID or a project name"),
        ({"project_name": "n"}, "exactly one of a project ID or a project name"),
        ({"iam_url": "ftp://iam.example.test/v3"}, "must be an http:// or https:// URL"),
        ({"iam_url": "https://qa:hunter2@iam.example.test/v3"}, "must not carry a user name or password"),
        ({"iam_url": "http://iam.example.test/v3"}, "refusing to send a password over plain HTTP"),
        ({"iam_url": "http://iam.localhost/v3"}, "refusing to send a password over plain HTTP"),
        ({"iam_url": "https://xn--.invalid/v3"}, "not a valid host name"),
        ({"iam_url": "https://iam.example.test/v3?x=1"}, "must not have a query"),
        ({"domain": ""}, "needs a user name and a domain"),
    ],
)
def test_unusable_credentials_are_usage_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        credentials(**changes)
    assert PASSWORD not in str(caught.value)


def test_plain_http_is_allowed_to_loopback_or_when_asked() -> None:
    assert credentials(iam_url="http://127.0.0.1:5000/v3").iam_url.startswith("http://")
    assert credentials(iam_url="http://[::1]:5000/v3").iam_url.startswith("http://")
    assert credentials(iam_url="http://iam.example.test/v3", allow_plain_http=True).allow_plain_http


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("LOCALHOST", True), ("10.0.0.1", False), ("iam.example.test", False),
     ("localhost.example.test", False), ("evil.localhost", False), ("localhost.", False),
     ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("::", False), ("127.1", False), ("", False)],
)  # fmt: skip
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_password_source_fetches_lazily_and_renews_once_after_a_401() -> None:
    seen: list[httpx.Request] = []
    with identity(issuing("tok-1", "tok-2"), seen) as client:
        source = TokenSource.from_password(client, credentials())
        assert seen == []
        assert source.token() == "tok-1"
        assert source.token() == "tok-1"
        assert source.expires_at == datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert source.renew(rejected="tok-1") == "tok-2"
        # A second caller that still held the old token gets the fresh one without another fetch.
        assert source.renew(rejected="tok-1") == "tok-2"
        assert source.renew(rejected="tok-2") is None
        assert source.token() == "tok-2"
    assert len(seen) == 2
    assert source.secrets() == (PASSWORD, "tok-1", "tok-2")


def test_a_token_the_source_never_issued_is_not_renewed() -> None:
    seen: list[httpx.Request] = []
    with identity(issuing("tok-1"), seen) as client:
        source = TokenSource.from_password(client, credentials())
        source.token()
        assert source.renew(rejected="deliberately-invalid") is None
    assert len(seen) == 1


def test_a_fixed_token_is_never_renewed() -> None:
    source = TokenSource.from_token(" fixed-token ")
    assert source.token() == "fixed-token"
    assert source.renew(rejected="fixed-token") is None
    assert source.secrets() == ("fixed-token",)
    with pytest.raises(UsageError, match="the token is empty"):
        TokenSource.from_token("  ")


@pytest.mark.parametrize(
    ("issued", "problem"),
    [("tök-1".encode(), "outside ASCII"), (b"tok\x01en", "control character"), (b"tok\x7fen", "control")],
)
def test_a_token_that_cannot_go_in_a_header_is_an_auth_error(issued: bytes, problem: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, headers=[(b"X-Subject-Token", issued)])

    with identity(handler) as client, pytest.raises(AuthError, match=problem) as caught:
        TokenSource.from_password(client, credentials()).token()
    message = str(caught.value)
    assert issued.decode("latin-1") not in message
    assert issued.decode("utf-8", "replace") not in message


@pytest.mark.parametrize(
    ("given", "problem"), [("tok\nen", "a line break"), ("tök", "outside ASCII"), (" ", "empty")]
)
def test_a_given_token_that_cannot_go_in_a_header_is_a_usage_error(given: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        TokenSource.from_token(given)


def test_renewal_failure_is_an_auth_error() -> None:
    responses = iter([httpx.Response(201, headers={"X-Subject-Token": "tok-1"}), httpx.Response(401)])
    with identity(lambda request: next(responses)) as client:
        source = TokenSource.from_password(client, credentials())
        source.token()
        with pytest.raises(AuthError, match="401"):
            source.renew(rejected="tok-1")


def test_redact_masks_every_occurrence_and_encoded_forms() -> None:
    text = (
        f"X-Auth-Token: tok-abcdef\n{json.dumps({'password': PASSWORD})}\n"
        "url?password=pa%22ss%2Fword%3A7%26x and tok-abcdef again"
    )
    masked = redact(text, [PASSWORD, "tok-abcdef", ""])
    assert masked == 'X-Auth-Token: ***\n{"password": "***"}\nurl?password=*** and *** again'


def test_redact_masks_a_secret_containing_another_whole() -> None:
    assert redact("abcdefgh-123 and abcdefgh", ["abcdefgh", "abcdefgh-123"], mask="<hidden>") == (
        "<hidden> and <hidden>"
    )
    assert redact("nothing here", []) == "nothing here"


def test_tokens_from_the_mock_identity_endpoint_work_against_the_mock_api() -> None:
    server = pytest.importorskip("conformance.mock.server")
    config = server.MockConfig()
    ((username, password),) = config.users
    with server.serve_in_thread(config) as mock, httpx.Client(timeout=10) as client:
        creds = PasswordCredentials(
            iam_url=f"{mock.base_url}/v3",
            username=username,
            password=password,
            domain="Default",
            project_id=mock.project_id,
        )
        source = TokenSource.from_password(client, creds)
        token = source.token()
        assert token != mock.token
        listed = client.get(f"{mock.api_url}/snapshots", headers={"X-Auth-Token": token})
        assert listed.status_code == 200
        with pytest.raises(AuthError, match="refused a token") as caught:
            fetch_token(
                client,
                f"{mock.base_url}/v3",
                username=username,
                password=password + "-wrong",
                domain="Default",
                project_id=mock.project_id,
            )
        assert password not in str(caught.value)

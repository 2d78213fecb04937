"""The Cinder audit harness's pure parts: config rendering, expectations, identity stand-in, command line.

Nothing here installs or starts Cinder.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contract.requirements import load_requirements
from tests.audits.harness import harness

deploy = harness("cinder_deploy")
expectations = harness("audit_expectations")
keystone = harness("keystone_standin")
run_audit = harness("run_audit")
cinder_seed = harness("cinder_seed")


# -- cinder.conf ---------------------------------------------------------------------------------------
def _config(tmp_path: Path) -> object:
    return deploy.CinderConfig(
        api_paste_config=tmp_path / "venv" / "etc" / "cinder" / "api-paste.ini",
        port=48123,
        state_dir=tmp_path / "state",
        identity_url="http://127.0.0.1:5000",
        service_user="cinder",
        service_password="s3cret",
        project_name="evs-audit",
        transport_url="rabbit://guest:guest@127.0.0.1:45672/",
        database_url="postgresql+psycopg2://cinder@/cinder?host=/tmp/x/postgresql",
    )


def _sections(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return sections


def test_rendered_config_keeps_cinder_on_loopback_with_the_private_bus_and_database(tmp_path: Path) -> None:
    conf = _sections(deploy.render_config(_config(tmp_path)))
    state = tmp_path / "state"
    assert conf["DEFAULT"]["osapi_volume_listen"] == "127.0.0.1"
    assert conf["DEFAULT"]["osapi_volume_listen_port"] == "48123"
    assert conf["DEFAULT"]["osapi_volume_workers"] == "1"
    assert conf["DEFAULT"]["transport_url"] == "rabbit://guest:guest@127.0.0.1:45672/"
    assert conf["DEFAULT"]["auth_strategy"] == "keystone"
    assert conf["DEFAULT"]["api_paste_config"] == str(tmp_path / "venv" / "etc" / "cinder" / "api-paste.ini")
    assert conf["database"]["connection"] == "postgresql+psycopg2://cinder@/cinder?host=/tmp/x/postgresql"
    assert conf["oslo_concurrency"]["lock_path"] == f"{state}/locks"
    assert conf["coordination"]["backend_url"] == f"file://{state}/coordination"
    assert conf["oslo_messaging_notifications"]["driver"] == "noop"


def test_rendered_config_makes_the_fake_driver_the_one_backend_of_a_fixed_host(tmp_path: Path) -> None:
    conf = _sections(deploy.render_config(_config(tmp_path)))
    assert conf["DEFAULT"]["host"] == deploy.SERVICE_HOST
    assert conf["DEFAULT"]["enabled_backends"] == deploy.BACKEND
    backend = conf[deploy.BACKEND]
    assert backend["volume_driver"] == "cinder.tests.fake_driver.FakeLoggingVolumeDriver"
    assert backend["volume_backend_name"] == deploy.BACKEND


def test_rendered_config_points_keystonemiddleware_at_the_stand_in(tmp_path: Path) -> None:
    auth = _sections(deploy.render_config(_config(tmp_path)))["keystone_authtoken"]
    assert auth["auth_url"] == "http://127.0.0.1:5000/v3"
    assert auth["username"] == "cinder"
    assert auth["password"] == "s3cret"
    assert auth["project_name"] == "evs-audit"


def test_a_template_placeholder_left_unfilled_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown_key"):
        deploy.render_config(_config(tmp_path), template="x = $unknown_key\n")


def test_a_venv_counts_as_complete_only_with_the_marker_for_the_same_requirement(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "cinder-api").write_text("")
    assert not deploy.venv_is_complete(venv)
    (venv / deploy.COMPLETE_MARKER).write_text("cinder==28.0.0\n")
    assert not deploy.venv_is_complete(venv)
    # An install from before the fake driver's and the database's needs is rebuilt.
    (venv / deploy.COMPLETE_MARKER).write_text(deploy.CINDER_REQUIREMENT + "\n")
    assert not deploy.venv_is_complete(venv)
    (venv / deploy.COMPLETE_MARKER).write_text("\n".join(deploy.VENV_REQUIREMENTS) + "\n")
    assert deploy.venv_is_complete(venv)


def test_each_set_of_requirements_has_a_venv_folder_of_its_own() -> None:
    before = (deploy.CINDER_REQUIREMENT, deploy.DRIVER_REQUIREMENT, "PyMySQL==1.2.4")
    now = deploy.default_venv_dir()
    assert now.name.startswith("cinder-29.0.0-")
    assert now == deploy.default_venv_dir(deploy.VENV_REQUIREMENTS)
    assert deploy.default_venv_dir(before) != now
    assert deploy.default_venv_dir(before).parent == now.parent


def test_cinder_commands_run_without_the_calling_interpreters_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("VIRTUAL_ENV", "/work/venv")
    env = deploy.isolated_env(tmp_path / "venv")
    assert "PYTHONPATH" not in env
    assert env["VIRTUAL_ENV"] == str(tmp_path / "venv")
    assert env["PATH"].startswith(str(tmp_path / "venv" / "bin"))


# -- expected.yaml and the comparison ------------------------------------------------------------------
def _plan(**verdicts: str) -> object:
    document = {
        "profiles": {
            "cinder": {
                "run-options": ["--api-version", "v3"],
                "requirements": {
                    rid.replace("_", "-"): {"verdict": v, "reason": "because"} for rid, v in verdicts.items()
                },
            }
        }
    }
    return expectations.parse_plans(document)["cinder"]


def test_matching_verdicts_give_no_difference() -> None:
    plan = _plan(OP_ACCEPT="pass", REQ_JSON="fail")
    reported = {"OP-ACCEPT": ("pass", ""), "REQ-JSON": ("fail", "500 on empty body")}
    assert expectations.compare(plan, reported) == []
    assert plan.run_options == ("--api-version", "v3")


def test_a_different_verdict_is_reported_with_reason_and_evidence() -> None:
    plan = _plan(OP_ACCEPT="pass", REQ_JSON="fail")
    reported = {"OP-ACCEPT": ("fail", "got 500"), "REQ-JSON": ("fail", "")}
    (difference,) = expectations.compare(plan, reported)
    assert (difference.requirement, difference.expected, difference.reported) == ("OP-ACCEPT", "pass", "fail")
    text = difference.describe()
    assert "expected pass, reported fail" in text
    assert "got 500" in text


def test_requirements_on_one_side_only_are_differences() -> None:
    plan = _plan(OP_ACCEPT="pass")
    differences = expectations.compare(plan, {"NEW-REQ": ("pass", "")})
    assert {(d.requirement, d.expected, d.reported) for d in differences} == {
        ("OP-ACCEPT", "pass", None),
        ("NEW-REQ", None, "pass"),
    }


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"profiles": {"cinder": {}}},
        {"profiles": {"cinder": {"requirements": {"OP-ACCEPT": {"verdict": "maybe"}}}}},
        {"profiles": {"cinder": {"requirements": {"REQ-JSON": {"verdict": "fail"}}}}},
        {"profiles": {"cinder": {"run-options": "--api-version v3", "requirements": {}}}},
    ],
    ids=["no-profiles", "no-requirements", "unknown-verdict", "fail-without-reason", "options-not-a-list"],
)
def test_malformed_expectations_are_refused(document: object) -> None:
    with pytest.raises(expectations.ExpectationError):
        expectations.parse_plans(document)


def test_report_entries_need_an_id_and_a_verdict(tmp_path: Path) -> None:
    path = tmp_path / "conformance.json"
    path.write_text(json.dumps({"verdict": "fail", "requirements": [{"id": "OP-ACCEPT"}]}))
    with pytest.raises(expectations.ExpectationError, match="without id/verdict"):
        expectations.read_report(path)


def test_report_evidence_is_kept_short() -> None:
    reported = expectations.reported_verdicts(
        {"requirements": [{"id": "RSP-NO-5XX", "verdict": "fail", "evidence": ["x" * 1000]}]}
    )
    verdict, evidence = reported["RSP-NO-5XX"]
    assert verdict == "fail"
    assert evidence.endswith("...")
    assert len(evidence) <= 400


def test_the_shipped_expectations_cover_every_catalogued_requirement_in_both_profiles() -> None:
    plans = expectations.load_plans()
    catalogue = {requirement.id for requirement in load_requirements()}
    assert set(plans) == {"cinder", "huawei"}
    for plan in plans.values():
        assert set(plan.expectations) == catalogue


def test_the_huawei_profile_is_run_against_cinders_v3_path() -> None:
    plan = expectations.load_plans()["huawei"]
    assert plan.run_options == ("--api-version", "v3")


# -- the identity stand-in -----------------------------------------------------------------------------
@pytest.fixture
def identity() -> Iterator[tuple[object, str]]:
    standin = keystone.KeystoneStandIn(
        keystone.Project("p" * 32, "evs-audit"),
        [keystone.User("svc", "svc-pw", ("admin", "service")), keystone.User("reader", "r-pw", ("reader",))],
    )
    with standin.serving() as url:
        yield standin, url


def _validate(url: str, caller: str, subject: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url + "/v3/auth/tokens", headers={"X-Auth-Token": caller, "X-Subject-Token": subject}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["X-Subject-Token"] == subject
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_stand_in_issues_tokens_that_an_admin_can_validate(identity: tuple[object, str]) -> None:
    _, url = identity
    service = keystone.login(url, "svc", "svc-pw")
    reader = keystone.login(url, "reader", "r-pw")
    status, body = _validate(url, service, reader)
    assert status == 200
    token = body["token"]
    assert isinstance(token, dict)
    assert token["project"]["id"] == "p" * 32
    assert [role["name"] for role in token["roles"]] == ["reader"]
    assert token["expires_at"].endswith("Z")


def test_stand_in_refuses_unknown_tokens_and_non_admin_callers(identity: tuple[object, str]) -> None:
    _, url = identity
    service = keystone.login(url, "svc", "svc-pw")
    reader = keystone.login(url, "reader", "r-pw")
    assert _validate(url, service, "not-a-token")[0] == 404
    assert _validate(url, "not-a-token", reader)[0] == 401
    assert _validate(url, reader, service)[0] == 403


def test_stand_in_refuses_a_wrong_password(identity: tuple[object, str]) -> None:
    _, url = identity
    with pytest.raises(urllib.error.HTTPError) as refused:
        keystone.login(url, "svc", "wrong")
    assert refused.value.code == 401


def test_stand_in_answers_version_discovery(identity: tuple[object, str]) -> None:
    _, url = identity
    with urllib.request.urlopen(url + "/v3", timeout=5) as response:
        version = json.loads(response.read())["version"]
    assert version["id"].startswith("v3")
    assert version["links"][0]["href"] == url + "/v3/"
    with pytest.raises(urllib.error.HTTPError) as choices:
        urllib.request.urlopen(url + "/", timeout=5)
    assert choices.value.code == 300
    assert json.loads(choices.value.read())["versions"]["values"][0]["id"].startswith("v3")


def test_validated_tokens_carry_an_identity_catalog_for_keystonemiddleware(
    identity: tuple[object, str],
) -> None:
    standin, url = identity
    issued = standin.issue("svc", "svc-pw")
    assert issued is not None
    (service,) = issued[1]["token"]["catalog"]
    assert service["type"] == "identity"
    assert {e["interface"] for e in service["endpoints"]} == {"public", "internal", "admin"}
    assert all(e["url"] == url + "/v3" for e in service["endpoints"])


# -- the command line and the seeding rules ------------------------------------------------------------
def test_suite_command_names_every_seeded_input_and_the_profiles_options(tmp_path: Path) -> None:
    volumes = cinder_seed.SeededVolumes("vol-a", "vol-b")
    target = run_audit.Target("http://127.0.0.1:9", "proj", "tok", volumes)
    command = run_audit.suite_command(target, "huawei", tmp_path, (7, 40), ("--api-version", "v3"))
    options = dict(zip(command[4::2], command[5::2], strict=False))
    assert command[3] == "run"
    assert options["--base-url"] == "http://127.0.0.1:9"
    assert options["--profile"] == "huawei"
    assert options["--volume-id"] == "vol-a"
    assert options["--in-use-volume-id"] == "vol-b"
    assert options["--examples"] == "7"
    assert options["--max-creates"] == "40"
    assert options["--api-version"] == "v3"
    assert "tok" not in run_audit.masked(command, "tok").split()


def test_with_run_defaults_the_suite_gets_no_budget_options(tmp_path: Path) -> None:
    volumes = cinder_seed.SeededVolumes("vol-a", "vol-b")
    target = run_audit.Target("http://127.0.0.1:9", "proj", "tok", volumes)
    command = run_audit.suite_command(target, "cinder", tmp_path, None, ())
    assert "--examples" not in command
    assert "--max-creates" not in command
    assert command[command.index("--in-use-volume-id") + 1] == "vol-b"


def test_command_line_defaults_to_the_audits_budget_and_run_defaults_drops_it() -> None:
    args = run_audit.parse_args([])
    assert (args.examples, args.max_creates, args.run_defaults) == (5, 600, False)
    assert run_audit.parse_args(["--run-defaults"]).run_defaults


@pytest.mark.parametrize(
    "argv",
    [["--examples", "0"], ["--max-creates", "-1"], ["--run-defaults", "--examples", "5"]],
    ids=["zero-examples", "negative-budget", "run-defaults-with-a-budget"],
)
def test_command_line_refuses_contradictions(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_audit.parse_args(argv)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_summary_marks_differences(tmp_path: Path) -> None:
    plan = _plan(OP_ACCEPT="pass", LIFE_SETTLE="fail")
    reported = {"OP-ACCEPT": ("pass", ""), "LIFE-SETTLE": ("pass", "")}
    results = {"cinder": (expectations.compare(plan, reported), expectations.summary_rows(plan, reported))}
    page = run_audit.render_summary(results, run_audit.Timings([("seeding", 1.5)]), (5, 600))
    assert "RabbitMQ and PostgreSQL" in page
    assert "the audit's settings (`--examples 5 --max-creates 600`)" in page
    assert "own defaults" in run_audit.render_summary(results, run_audit.Timings())
    assert "## Profile `cinder`: 1 difference(s)" in page
    assert "| LIFE-SETTLE | fail | pass **(differs)** | because |" in page
    assert "| OP-ACCEPT | pass | pass | because |" in page


# -- preparing Cinder through its API -------------------------------------------------------------------
cinder_client = harness("cinder_client")


class ScriptedCinder:
    """Answers GETs from a script of bodies per path and records every call."""

    def __init__(self, answers: dict[str, list[object]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, object]] = []
        self.project_id = "proj"

    def expect(
        self, status: int, method: str, path: str, body: object = None, microversion: object = None
    ) -> object:
        self.calls.append((method, path, body))
        if method != "GET":
            return {"volume": {"id": f"vol-{len(self.calls)}"}}
        script = self.answers[path]
        return script.pop(0) if len(script) > 1 else script[0]


def _service(binary: str, state: str = "up", status: str = "enabled") -> dict[str, str]:
    return {"binary": binary, "state": state, "status": status}


def test_services_count_as_up_only_when_enabled_and_reporting() -> None:
    up = [_service("cinder-scheduler"), _service("cinder-volume")]
    assert cinder_seed.services_not_up(up) == []
    assert cinder_seed.services_not_up([_service("cinder-scheduler")]) == ["cinder-volume (not registered)"]
    assert cinder_seed.services_not_up([_service("cinder-scheduler"), _service("cinder-volume", "down")]) == [
        "cinder-volume"
    ]
    assert cinder_seed.services_not_up([_service("cinder-scheduler", status="disabled"), up[1]]) == [
        "cinder-scheduler"
    ]


def test_the_backend_is_ready_once_services_are_up_and_a_pool_is_known() -> None:
    up = {"services": [_service("cinder-scheduler"), _service("cinder-volume")]}
    client = ScriptedCinder(
        {
            "/os-services": [{"services": []}, up],
            "/scheduler-stats/get_pools": [{"pools": []}, {"pools": [{"name": "h@b#p"}]}],
        }
    )
    assert cinder_seed.wait_for_backend(client, sleep=lambda s: None) == "h@b#p"


def test_a_service_that_crashed_ends_the_wait_at_once() -> None:
    def crashed() -> None:
        raise deploy.DeployError("cinder-volume exited with 1")

    client = ScriptedCinder({"/os-services": [{"services": []}]})
    with pytest.raises(deploy.DeployError, match="cinder-volume exited"):
        cinder_seed.wait_for_backend(client, crashed, sleep=lambda s: None)


def test_a_volume_is_waited_for_until_its_status_and_an_error_status_ends_the_wait() -> None:
    client = ScriptedCinder(
        {"/volumes/v1": [{"volume": {"status": "creating"}}, {"volume": {"status": "available", "size": 1}}]}
    )
    assert cinder_seed.wait_for_volume(client, "v1", "available", sleep=lambda s: None)["size"] == 1
    failing = ScriptedCinder(
        {"/volumes/v2": [{"volume": {"status": "creating"}}, {"volume": {"status": "error"}}]}
    )
    with pytest.raises(cinder_client.CinderApiError, match="went to 'error'"):
        cinder_seed.wait_for_volume(failing, "v2", "available", sleep=lambda s: None)
    stuck = ScriptedCinder({"/volumes/v3": [{"volume": {"status": "attaching"}}]})
    with pytest.raises(cinder_client.CinderApiError, match="still 'attaching'"):
        cinder_seed.wait_for_volume(stuck, "v3", "in-use", timeout_s=0.0, sleep=lambda s: None)


def test_seeding_lifts_quotas_and_attaches_the_second_volume_with_os_attach() -> None:
    available = {"volume": {"status": "available", "size": 1, "attachments": []}}
    in_use = {"volume": {"status": "in-use", "size": 1, "attachments": [{"server_id": "s"}]}}
    client = ScriptedCinder({"/volumes/vol-2": [available], "/volumes/vol-3": [available, available, in_use]})
    volumes = cinder_seed.seed(client)
    assert volumes == cinder_seed.SeededVolumes("vol-2", "vol-3")
    writes = [(method, path, body) for method, path, body in client.calls if method != "GET"]
    assert writes[0][:2] == ("PUT", "/os-quota-sets/proj")
    assert writes[0][2] == {"quota_set": {"snapshots": -1, "volumes": -1, "gigabytes": -1}}
    assert [w[:2] for w in writes[1:]] == [
        ("POST", "/volumes"),
        ("POST", "/volumes"),
        ("POST", "/volumes/vol-3/action"),
    ]
    assert set(writes[3][2]["os-attach"]) == {"instance_uuid", "mountpoint"}  # type: ignore[index]


def _journal(reports: Path, base_url: str, project_id: str) -> Path:
    reports.mkdir(parents=True, exist_ok=True)
    journal = reports / "creates.jsonl"
    header = {"e": "run", "base_url": base_url, "project_id": project_id, "profile": "cinder"}
    sent = {"e": "sent", "key": "main-1-a", "path": f"/v3/{project_id}/snapshots"}
    journal.write_text(json.dumps(header) + "\n" + json.dumps(sent) + "\n", encoding="utf-8")
    return journal


def test_a_journal_of_an_earlier_audits_cinder_is_removed_before_the_next_run(tmp_path: Path) -> None:
    run_audit = harness("run_audit")
    target = run_audit.Target("http://127.0.0.1:40001", "p-now", "token", None)
    earlier = _journal(tmp_path / "earlier", "http://127.0.0.1:47143", "p-then")
    run_audit.discard_earlier_journal(earlier.parent, target)
    assert not earlier.exists()


def test_a_journal_of_this_deployment_is_kept(tmp_path: Path) -> None:
    run_audit = harness("run_audit")
    target = run_audit.Target("http://127.0.0.1:40001", "p-now", "token", None)
    current = _journal(tmp_path / "current", target.base_url, target.project_id)
    run_audit.discard_earlier_journal(current.parent, target)
    assert current.exists()
    run_audit.discard_earlier_journal(tmp_path / "none", target)  # no journal: nothing to do


def test_read_exactly_waits_for_every_byte_and_names_a_short_answer() -> None:
    import socket

    processes = harness("processes")
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"AMQP")
        theirs.sendall(b"0091")
        assert processes.read_exactly(ours, 8) == b"AMQP0091"
        theirs.sendall(b"R")
        theirs.shutdown(socket.SHUT_WR)
        with pytest.raises(ConnectionError, match="after 1 of 5 bytes"):
            processes.read_exactly(ours, 5)

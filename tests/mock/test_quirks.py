"""Each quirk shows the deviation it promises over HTTP, the clean mock does not, and nothing else breaks."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.contract import PROFILES, load_contract
from conformance.contract.requirements import load_requirements
from conformance.core.errors import UsageError
from conformance.mock import app, identity, models, rewrites
from conformance.mock.hooks import Answer, Status, Switch, ViewRewrite, ViewScope
from conformance.mock.quirks import (
    INTERMITTENT_EVERY,
    QUIRKS,
    CatalogueError,
    Quirk,
    applicable_quirks,
    check_catalogue,
    check_quirks,
    compile_deviations,
    default_status,
)
from tests.mock.conftest import Api

Demo = Callable[[Api], None]
DEMOS: dict[str, Demo] = {}
BROKEN_GROUPS = ("OP-", "AUTH-", "REQ-", "RSP-", "LIFE-")


def demo(name: str) -> Callable[[Demo], Demo]:
    def register(function: Demo) -> Demo:
        DEMOS[name] = function
        return function

    return register


def _limit(api: Api, field: str) -> int:
    limit = api.contract.field(field).max_length
    assert limit is not None
    return limit


def _fault(response: httpx.Response) -> dict[str, object]:
    ((fault,),) = [response.json().values()]
    assert isinstance(fault, dict)
    return fault


def _refusal(api: Api) -> httpx.Response:
    return api.create(name="n" * (_limit(api, "name") + 1))


def _accepted_status(api: Api, response: httpx.Response) -> None:
    assert response.status_code == api.contract.accepted_status, response.text


@demo("wrong-accepted-status")
def _(api: Api) -> None:
    assert api.create().status_code == HTTPStatus.OK


@demo("accepted-empty-body")
def _(api: Api) -> None:
    response = api.create()
    _accepted_status(api, response)
    assert response.content == b""


@demo("accepts-missing-token")
def _(api: Api) -> None:
    _accepted_status(api, api.create(token=None))


@demo("accepts-invalid-token")
def _(api: Api) -> None:
    _accepted_status(api, api.create(token="forged"))


@demo("accepts-other-project-token")
def _(api: Api) -> None:
    api.backend.add_project("elsewhere")
    api.backend.add_token("elsewhere-token", "elsewhere")
    _accepted_status(api, api.create(token="elsewhere-token"))


@demo("snapshot-not-object-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.post(json={api.key: "not an object"}))
    _accepted_status(api, api.post(json={}))


@demo("unwrapped-body-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.post(json={"volume_id": api.mock.available_volume_id}))


@demo("wrapper-key-any-case")
def _(api: Api) -> None:
    _accepted_status(api, api.post(json={api.key.capitalize(): {"volume_id": api.mock.available_volume_id}}))


@demo("fields-beside-wrapper-read")
def _(api: Api) -> None:
    _accepted_status(api, api.post(json={api.key: {}, "volume_id": api.mock.available_volume_id}))


@demo("volume-id-array-unwrapped")
def _(api: Api) -> None:
    _accepted_status(api, api.create(volume_id=[api.mock.available_volume_id]))


@demo("volume-id-integer-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.create(volume_id=12))


@demo("null-volume-id-404")
def _(api: Api) -> None:
    assert api.create(volume_id=None).status_code == HTTPStatus.NOT_FOUND


@demo("null-volume-id-400")
def _(api: Api) -> None:
    assert api.create(volume_id=None).status_code == api.invalid()


@demo("unknown-volume-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.create(volume_id=str(uuid.uuid4())))


@demo("unknown-volume-404")
def _(api: Api) -> None:
    assert api.create(volume_id=str(uuid.uuid4())).status_code == HTTPStatus.NOT_FOUND


@demo("unknown-volume-400")
def _(api: Api) -> None:
    assert api.create(volume_id=str(uuid.uuid4())).status_code == api.invalid()


@demo("name-limit-off-by-one-lenient")
def _(api: Api) -> None:
    _accepted_status(api, api.create(name="n" * (_limit(api, "name") + 1)))


@demo("name-limit-off-by-one-strict")
def _(api: Api) -> None:
    assert api.create(name="n" * _limit(api, "name")).status_code == api.invalid()


@demo("name-counts-bytes")
def _(api: Api) -> None:
    assert api.create(name="é" * _limit(api, "name")).status_code == api.invalid()


@demo("name-empty-refused")
def _(api: Api) -> None:
    assert api.create(name="").status_code == api.invalid()


@demo("description-limit-off-by-one-lenient")
def _(api: Api) -> None:
    _accepted_status(api, api.create(description="d" * (_limit(api, "description") + 1)))


@demo("description-limit-off-by-one-strict")
def _(api: Api) -> None:
    assert api.create(description="d" * _limit(api, "description")).status_code == api.invalid()


@demo("description-counts-bytes")
def _(api: Api) -> None:
    assert api.create(description="é" * _limit(api, "description")).status_code == api.invalid()


@demo("description-null-refused")
def _(api: Api) -> None:
    assert api.create(description=None).status_code == api.invalid()


@demo("force-coerces-strings")
def _(api: Api) -> None:
    _accepted_status(api, api.create(force="not-a-boolean"))


@demo("force-coerces-integers")
def _(api: Api) -> None:
    _accepted_status(api, api.create(force=1))


@demo("force-default-true")
def _(api: Api) -> None:
    _accepted_status(api, api.create(volume_id=api.mock.in_use_volume_id))


@demo("busy-volume-ignored")
def _(api: Api) -> None:
    _accepted_status(api, api.create(volume_id=api.mock.in_use_volume_id, force=False))


@demo("busy-volume-409")
def _(api: Api) -> None:
    assert api.create(volume_id=api.mock.in_use_volume_id, force=False).status_code == HTTPStatus.CONFLICT


@demo("force-true-refused")
def _(api: Api) -> None:
    assert api.create(volume_id=api.mock.in_use_volume_id, force=True).status_code == api.invalid()


@demo("metadata-non-string-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.create(metadata={"k": 1}))


@demo("metadata-not-object-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.create(metadata=["k", "v"]))


@demo("malformed-json-422")
def _(api: Api) -> None:
    assert api.post(b"{").status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert api.post(b"").status_code == HTTPStatus.UNPROCESSABLE_ENTITY


@demo("json-trailing-garbage-accepted")
def _(api: Api) -> None:
    _accepted_status(api, api.post(json.dumps(api.body()).encode() + b" trailing"))


@demo("missing-updated-at")
def _(api: Api) -> None:
    assert "updated_at" not in api.accepted(api.create())


@demo("summary-not-wrapped")
def _(api: Api) -> None:
    response = api.create()
    _accepted_status(api, response)
    assert api.contract.summary_key not in response.json()
    assert "id" in response.json()


@demo("created-at-with-zone")
def _(api: Api) -> None:
    created_at = api.accepted(api.create())["created_at"]
    assert created_at.endswith("Z")
    assert not re.fullmatch(api.contract.time_pattern, created_at)


@demo("local-time-as-utc")
def _(api: Api) -> None:
    response = api.create()
    created = datetime.fromisoformat(api.accepted(response)["created_at"]).replace(tzinfo=UTC)
    answered = parsedate_to_datetime(response.headers["date"])
    assert abs(created - answered - rewrites.LOCAL_UTC_OFFSET) < timedelta(minutes=1)


@demo("updated-at-before-created-at")
def _(api: Api) -> None:
    snapshot = api.accepted(api.create())
    assert snapshot["updated_at"] is not None
    assert snapshot["updated_at"] < snapshot["created_at"]


@demo("created-at-without-microseconds")
def _(api: Api) -> None:
    created_at = api.accepted(api.create())["created_at"]
    assert "." not in created_at
    assert not re.fullmatch(api.contract.time_pattern, created_at)


@demo("size-zero")
def _(api: Api) -> None:
    assert api.accepted(api.create())["size"] == 0


@demo("size-as-string")
def _(api: Api) -> None:
    assert isinstance(api.accepted(api.create())["size"], str)


@demo("size-in-mib")
def _(api: Api) -> None:
    disk = api.get(f"/volumes/{api.mock.available_volume_id}").json()["volume"]
    assert api.accepted(api.create())["size"] == disk["size"] * 1024


@demo("status-unknown-value")
def _(api: Api) -> None:
    assert api.accepted(api.create())["status"] not in api.contract.snapshot_statuses


@demo("status-capitalised")
def _(api: Api) -> None:
    assert api.accepted(api.create())["status"] not in api.contract.snapshot_statuses


@demo("echo-drops-metadata")
def _(api: Api) -> None:
    assert api.accepted(api.create(metadata={"k": "v"}))["metadata"] == {}


@demo("echo-trims-name")
def _(api: Api) -> None:
    assert api.accepted(api.create(name=" padded "))["name"] == "padded"


@demo("echo-volume-id-uppercased")
def _(api: Api) -> None:
    assert api.accepted(api.create())["volume_id"] != api.mock.available_volume_id


@demo("reused-ids")
def _(api: Api) -> None:
    first, second = (api.accepted(api.create())["id"] for _ in range(2))
    assert first == second


@demo("error-code-integer")
def _(api: Api) -> None:
    assert isinstance(_fault(_refusal(api))["code"], int)


@demo("error-code-string")
def _(api: Api) -> None:
    assert isinstance(_fault(_refusal(api))["code"], str)


@demo("error-envelope-flat")
def _(api: Api) -> None:
    assert set(_refusal(api).json()) == {"code", "message"}


@demo("error-message-missing")
def _(api: Api) -> None:
    assert "message" not in _fault(_refusal(api))


@demo("undocumented-status-code")
def _(api: Api) -> None:
    assert _refusal(api).status_code not in api.contract.documented_statuses


@demo("text-plain-content-type")
def _(api: Api) -> None:
    assert api.create().headers["content-type"].startswith("text/plain")


@demo("error-html-content-type")
def _(api: Api) -> None:
    assert _refusal(api).headers["content-type"].startswith("text/html")


@demo("500-on-non-ascii")
def _(api: Api) -> None:
    assert api.create(name="snapshot-é").status_code == HTTPStatus.INTERNAL_SERVER_ERROR


@demo("500-on-malformed-json")
def _(api: Api) -> None:
    assert api.post(b'{"snapshot": ').status_code == HTTPStatus.INTERNAL_SERVER_ERROR


@demo("500-on-empty-body")
def _(api: Api) -> None:
    assert api.post(b"").status_code == HTTPStatus.INTERNAL_SERVER_ERROR


@demo("500-on-deep-nesting")
def _(api: Api) -> None:
    assert api.post(b"[" * 5000 + b"]" * 5000).status_code == HTTPStatus.INTERNAL_SERVER_ERROR


@demo("500-on-non-json-accept")
def _(api: Api) -> None:
    headers = {**api.headers(), "Accept": "text/html"}
    response = api.client.post("/snapshots", json=api.body(), headers=headers)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR


@demo("intermittent-503")
def _(api: Api) -> None:
    statuses = [api.create().status_code for _ in range(2 * INTERMITTENT_EVERY)]
    failed = [i for i, status in enumerate(statuses, start=1) if status == HTTPStatus.SERVICE_UNAVAILABLE]
    assert failed == [INTERMITTENT_EVERY, 2 * INTERMITTENT_EVERY]


@demo("read-back-differs")
def _(api: Api) -> None:
    created = api.accepted(api.create(name="original"))
    read = api.get(f"/snapshots/{created['id']}").json()[api.contract.summary_key]
    assert read["name"] != created["name"]


def _read_back(api: Api, **fields: object) -> tuple[dict[str, Any], dict[str, Any]]:
    created = api.accepted(api.create(**fields))
    read: dict[str, Any] = api.get(f"/snapshots/{created['id']}").json()[api.contract.summary_key]
    return created, read


@demo("read-back-drops-metadata")
def _(api: Api) -> None:
    created, read = _read_back(api, metadata={"k": "v"})
    assert created["metadata"] == {"k": "v"}
    assert read["metadata"] == {}


@demo("read-back-other-description")
def _(api: Api) -> None:
    created, read = _read_back(api, description="described")
    assert read["description"] != created["description"]


@demo("read-back-whole-second-created-at")
def _(api: Api) -> None:
    created, read = _read_back(api)
    assert read["created_at"] != created["created_at"]
    assert read["created_at"].endswith(".000000")


@demo("read-back-404")
def _(api: Api) -> None:
    created = api.accepted(api.create())
    assert api.get(f"/snapshots/{created['id']}").status_code == HTTPStatus.NOT_FOUND


@demo("never-settles")
def _(api: Api) -> None:
    created = api.accepted(api.create())
    read = api.get(f"/snapshots/{created['id']}").json()[api.contract.summary_key]
    assert read["status"] == created["status"]


@demo("cannot-delete")
def _(api: Api) -> None:
    created = api.accepted(api.create())
    assert api.delete(f"/snapshots/{created['id']}").status_code == api.invalid()


@demo("delete-leaves-snapshot")
def _(api: Api) -> None:
    created = api.accepted(api.create())
    assert api.delete(f"/snapshots/{created['id']}").status_code == HTTPStatus.ACCEPTED
    assert api.get(f"/snapshots/{created['id']}").status_code == HTTPStatus.OK


@demo("delete-wrong-status")
def _(api: Api) -> None:
    created = api.accepted(api.create())
    assert api.delete(f"/snapshots/{created['id']}").status_code == HTTPStatus.NO_CONTENT


# -- the catalogue --------------------------------------------------------------------------------------
def test_every_quirk_has_a_demonstration() -> None:
    assert sorted(DEMOS) == sorted(QUIRKS)


def test_every_breakable_requirement_has_a_quirk() -> None:
    breakable = {r.id for r in load_requirements() if r.id.startswith(BROKEN_GROUPS)}
    broken = {q.breaks for q in QUIRKS.values()}
    assert breakable - broken == set()
    assert broken - breakable == set()


@pytest.mark.parametrize("profile", PROFILES)
def test_every_breakable_requirement_has_a_quirk_in_each_profile(profile: str) -> None:
    breakable = {r.id for r in load_requirements() if r.id.startswith(BROKEN_GROUPS)}
    assert breakable - {q.breaks for q in applicable_quirks(load_contract(profile))} == set()


def test_names_are_unique_and_say_what_is_wrong() -> None:
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", name) for name in QUIRKS)
    assert all(quirk.name == name and quirk.summary for name, quirk in QUIRKS.items())


def test_check_quirks_refuses_unknown_and_inapplicable_names() -> None:
    huawei = load_contract("huawei")
    with pytest.raises(UsageError, match=r"unknown quirk no-such-quirk .*valid: .*reused-ids"):
        check_quirks(["no-such-quirk"], huawei)
    with pytest.raises(UsageError, match="not a deviation for the huawei profile"):
        check_quirks(["error-code-string"], huawei)
    assert check_quirks(["reused-ids"], huawei) == {"reused-ids"}


# -- the demonstrations, against the clean mock and with the quirk on ---------------------------------------
def _applicable(api: Api, name: str) -> None:
    if not QUIRKS[name].applies_to(api.contract):
        pytest.skip(f"{name} is not a deviation for the {api.contract.profile} profile")


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirk_shows_its_deviation_and_the_clean_mock_does_not(api: Api, name: str) -> None:
    _applicable(api, name)
    with pytest.raises(AssertionError):
        DEMOS[name](api)
    api.backend.reset()
    api.backend.set_quirks([name])
    DEMOS[name](api)


def _probes(api: Api) -> list[httpx.Response]:
    created = api.create(name="probe")
    snapshot_id = created.json().get(api.contract.summary_key, {}).get("id", "x") if created.content else "x"
    return [
        created,
        api.create(name="é-probe"),
        _refusal(api),
        api.post(b"{"),
        api.get("/snapshots"),
        api.get(f"/snapshots/{snapshot_id}"),
        api.get(f"/volumes/{api.mock.available_volume_id}"),
        api.create(token=None),
    ]


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirk_keeps_the_promises_it_does_not_name(api: Api, name: str) -> None:
    _applicable(api, name)
    api.backend.set_quirks([name])
    breaks = QUIRKS[name].breaks
    for response in _probes(api):
        if breaks != "RSP-NO-5XX":
            assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, response.text
        if breaks != "RSP-CONTENT-TYPE" and response.content:
            assert response.headers["content-type"] == "application/json"
            response.json()
    if not breaks.startswith("AUTH-"):
        assert api.create(token=None).status_code == HTTPStatus.UNAUTHORIZED


# -- the catalogue as data: what it refuses when it loads ------------------------------------------------
_SOUND = Quirk(
    "size-zero-again", "RSP-SIZE", "size is 0", (ViewRewrite(ViewScope.EVERY, rewrites.size_zero),)
)


def _refused(*records: Quirk, match: str) -> None:
    with pytest.raises(CatalogueError, match=match):
        check_catalogue(records, complete=False)


def test_the_shipped_catalogue_passes_every_load_time_check() -> None:
    assert dict(check_catalogue(QUIRKS.values())) == dict(QUIRKS)
    assert dict(check_catalogue([_SOUND], complete=False)) == {_SOUND.name: _SOUND}


def test_a_misspelt_switch_or_status_point_or_view_scope_is_refused() -> None:
    _refused(replace(_SOUND, hooks=(Switch("reuse-frist-id"),)), match="switch 'reuse-frist-id' is no rule")
    _refused(replace(_SOUND, hooks=(Status("unknown-volum", 404),)), match="status point 'unknown-volum'")
    _refused(replace(_SOUND, hooks=(ViewRewrite("evry", rewrites.size_zero),)), match="view scope 'evry'")


def test_a_status_that_is_neither_an_http_status_nor_a_refusal_kind_is_refused() -> None:
    for status in (42, 1000, True):
        _refused(replace(_SOUND, hooks=(Status(Answer.VOLUME_BUSY, status),)), match="is not an HTTP status")
    _refused(replace(_SOUND, hooks=(Status(Answer.VOLUME_BUSY, "invalid-bod"),)), match="no refusal kind")


def test_a_misspelt_requirement_id_or_name_is_refused() -> None:
    _refused(replace(_SOUND, breaks="RSP-SIZ"), match="'RSP-SIZ', which is not in the requirement catalogue")
    _refused(replace(_SOUND, name="Size Zero"), match="not a lower-case hyphenated name")
    _refused(_SOUND, replace(_SOUND, summary="another"), match="'size-zero-again': listed twice")
    _refused(replace(_SOUND, summary=" "), match="no summary")
    _refused(replace(_SOUND, hooks=()), match="no hook")


def test_what_a_quirk_also_breaks_must_be_another_requirement_with_a_reason() -> None:
    assert _SOUND.fails == {"RSP-SIZE"}
    also = replace(_SOUND, also_breaks={"RSP-202-SCHEMA": "the schema wants a positive size"})
    assert dict(check_catalogue([also], complete=False)) == {also.name: also}
    assert also.fails == {"RSP-SIZE", "RSP-202-SCHEMA"}
    _refused(replace(_SOUND, also_breaks={"RSP-SIZ": "a reason"}), match="also breaks 'RSP-SIZ'")
    _refused(replace(_SOUND, also_breaks={"RSP-SIZE": "a reason"}), match="also breaks 'RSP-SIZE'")
    _refused(replace(_SOUND, also_breaks={"RSP-202-SCHEMA": " "}), match="no reason why it also breaks")


def test_an_applies_that_is_not_sane_is_refused() -> None:
    _refused(replace(_SOUND, applies=lambda c: False), match="applies to no profile")
    _refused(replace(_SOUND, applies=lambda c: "yes"), match="not true or false")  # type: ignore[arg-type,return-value]
    _refused(replace(_SOUND, applies=lambda c: c.refusal("no-such-kind") is None), match="applies fails")
    # A 404 for an unknown disk is cinder's own answer: a quirk claiming it deviates there is wrong.
    always = replace(QUIRKS["unknown-volume-404"], applies=lambda c: True)
    _refused(always, match="applies to cinder, where unknown-volume already answers that status")
    never = replace(QUIRKS["busy-volume-409"], applies=lambda c: c.profile == "cinder")
    _refused(never, match="does not apply to huawei, where it changes volume-busy")


def test_a_catalogue_that_leaves_a_switch_unused_is_refused() -> None:
    without = [q for q in QUIRKS.values() if q.name != "reused-ids"]
    with pytest.raises(CatalogueError, match="no quirk uses reuse-first-id"):
        check_catalogue(without)


def test_the_rules_and_the_http_layer_name_no_quirk() -> None:
    # They consult compiled deviations through typed constants; a quirk's name appears only in the catalogue.
    for module in (models, app, identity):
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        named = [name for name in QUIRKS if f'"{name}"' in source or f"'{name}'" in source]
        assert named == [], f"{module.__name__} names quirks {named}"


def test_compiled_deviations_hold_every_status_and_the_chosen_rewrites() -> None:
    huawei = load_contract("huawei")
    clean = compile_deviations((), huawei)
    assert clean.statuses == {p.value: default_status(p, huawei) for p in Answer}
    assert (
        clean.switches,
        clean.schema_rewrites,
        clean.request_rewrites,
        clean.create_view,
        clean.read_view,
    ) == (frozenset(), (), (), (), ())
    reading = compile_deviations(["wrapper-key-any-case", "unwrapped-body-accepted"], huawei)
    assert reading.request_rewrites == (rewrites.unwrapped_body, rewrites.wrapper_any_case)
    chosen = compile_deviations(
        ["size-zero", "read-back-differs", "status-capitalised", "busy-volume-409"], huawei
    )
    assert chosen.create_view == (rewrites.size_zero, rewrites.capitalised_status)
    assert chosen.read_view == (rewrites.renamed, rewrites.size_zero)
    assert chosen.status(Answer.VOLUME_BUSY) == HTTPStatus.CONFLICT
    assert chosen.status(Answer.UNKNOWN_VOLUME) == huawei.refusal("unknown-volume").status
    cinder = load_contract("cinder")
    assert compile_deviations(["null-volume-id-400"], cinder).status(Answer.NULL_VOLUME_ID) == (
        cinder.refusal("invalid-body").status
    )

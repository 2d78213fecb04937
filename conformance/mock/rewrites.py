"""The rewrites quirks are made of: small functions that edit the request schema, how a create body is read,
or a rendered snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from conformance.mock.clock import TIME_FORMAT
from conformance.mock.hooks import RequestPatch, SchemaPatch, ViewPatch

JSON = Any
#: The status ``status-unknown-value`` reports; the quirk applies only where the contract's enum lacks it.
UNKNOWN_SNAPSHOT_STATUS = "pending"
#: The zone ``local-time-as-utc`` writes its times in: China Standard Time, the zone of the page's own date.
LOCAL_UTC_OFFSET = timedelta(hours=8)
#: How much earlier than ``created_at`` the ``updated_at`` of ``updated-at-before-created-at`` is: the two
#: taken at different moments of one request, the update stamp first.
STAMP_GAP = timedelta(milliseconds=250)


# -- request schema rewrites -------------------------------------------------------------------------------
def widen_limit(field: str, by: int) -> SchemaPatch:
    """The field's maxLength moved by ``by`` characters."""

    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field]["maxLength"] += by

    return patch


def also_type(field: str, extra: str) -> SchemaPatch:
    """The field also takes values of JSON type ``extra``."""

    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field] = {"anyOf": [fields[field], {"type": extra}]}

    return patch


def non_empty(field: str) -> SchemaPatch:
    """The field refuses the empty string."""

    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field]["minLength"] = 1

    return patch


def not_null(field: str) -> SchemaPatch:
    """The field refuses null."""

    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        declared = fields[field]["type"]
        fields[field]["type"] = (
            [t for t in declared if t != "null"] if isinstance(declared, list) else declared
        )

    return patch


def any_value(field: str) -> SchemaPatch:
    """The field takes any JSON value."""

    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field] = {}

    return patch


def free_map_values(field: str) -> SchemaPatch:
    """The map field's values may be of any type."""

    def patch(_: dict[str, JSON], fields: dict[str, JSON]) -> None:
        fields[field].pop("additionalProperties", None)

    return patch


def any_snapshot(request: dict[str, JSON], _: dict[str, JSON]) -> None:
    """The body's top-level keys are optional and take any value."""
    request["required"] = []
    for key in request["properties"]:
        request["properties"][key] = {}


# -- create body readings ----------------------------------------------------------------------------------
def unwrapped_body(body: JSON, key: str) -> JSON:
    """A body object without the wrapper key is read as the snapshot object itself."""
    if isinstance(body, dict) and key not in body:
        return {key: body}
    return body


def merged_top_level(body: JSON, key: str) -> JSON:
    """Fields beside the snapshot object fill in those it lacks."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        return body
    beside = {name: value for name, value in body.items() if name != key}
    return {key: {**beside, **body[key]}}


def wrapper_any_case(body: JSON, key: str) -> JSON:
    """The wrapper key is found whatever its letter case."""
    if not isinstance(body, dict) or key in body:
        return body
    found = next((name for name in body if isinstance(name, str) and name.lower() == key.lower()), None)
    if found is None:
        return body
    return {key: body[found], **{name: value for name, value in body.items() if name != found}}


def single_item_unwrapped(field: str) -> RequestPatch:
    """A field given as an array of one item is read as that item."""

    def read(body: JSON, key: str) -> JSON:
        snapshot = body.get(key) if isinstance(body, dict) else None
        if not isinstance(snapshot, dict):
            return body
        value = snapshot.get(field)
        if not isinstance(value, list) or len(value) != 1:
            return body
        return {**body, key: {**snapshot, field: value[0]}}

    return read


# -- rendered snapshot rewrites ----------------------------------------------------------------------------
def drop_updated_at(view: dict[str, JSON]) -> None:
    view.pop("updated_at", None)


def zoned_created_at(view: dict[str, JSON]) -> None:
    view["created_at"] += "Z"


def whole_second_created_at(view: dict[str, JSON]) -> None:
    view["created_at"] = view["created_at"].partition(".")[0]


def size_zero(view: dict[str, JSON]) -> None:
    view["size"] = 0


def size_string(view: dict[str, JSON]) -> None:
    view["size"] = str(view["size"])


def size_mib(view: dict[str, JSON]) -> None:
    view["size"] *= 1024


def unknown_status(view: dict[str, JSON]) -> None:
    view["status"] = UNKNOWN_SNAPSHOT_STATUS


def capitalised_status(view: dict[str, JSON]) -> None:
    view["status"] = view["status"].capitalize()


def empty_metadata(view: dict[str, JSON]) -> None:
    view["metadata"] = {}


def trimmed_name(view: dict[str, JSON]) -> None:
    if isinstance(view["name"], str):
        view["name"] = view["name"].strip()


def uppercased_volume_id(view: dict[str, JSON]) -> None:
    view["volume_id"] = str(view["volume_id"]).upper()


def renamed(view: dict[str, JSON]) -> None:
    view["name"] = f"{view['name'] or ''}~read"


def other_description(view: dict[str, JSON]) -> None:
    view["description"] = f"{view['description'] or ''}~read"


def zeroed_microseconds_created_at(view: dict[str, JSON]) -> None:
    """created_at as a store keeping whole seconds gives it back (``...:18.000000``)."""
    view["created_at"] = view["created_at"].partition(".")[0] + ".000000"


def _shifted(stamp: JSON, by: timedelta) -> JSON:
    if not isinstance(stamp, str):
        return stamp
    return (datetime.strptime(stamp, TIME_FORMAT) + by).strftime(TIME_FORMAT)


def local_time(offset: timedelta) -> ViewPatch:
    """Both times written as the clock of a zone ``offset`` from UTC shows them, in the UTC format."""

    def patch(view: dict[str, JSON]) -> None:
        view["created_at"] = _shifted(view["created_at"], offset)
        view["updated_at"] = _shifted(view["updated_at"], offset)

    return patch


def updated_before_created(view: dict[str, JSON]) -> None:
    """updated_at set a moment before created_at."""
    view["updated_at"] = _shifted(view["created_at"], -STAMP_GAP)

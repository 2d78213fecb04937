"""The rewrites quirks are made of: small functions that edit the request schema or a rendered snapshot."""

from __future__ import annotations

from typing import Any

from conformance.mock.hooks import SchemaPatch

JSON = Any
#: The status ``status-unknown-value`` reports; the quirk applies only where the contract's enum lacks it.
UNKNOWN_SNAPSHOT_STATUS = "pending"


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

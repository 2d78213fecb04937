"""The plan of accepted creates: a few combined valid bodies that together reach every requirement.

A real cloud makes a snapshot in minutes and holds few (``notes/cloud-limits.md``), so the suite reaches
everything that needs an accepted create with a handful of bodies, each carrying many classes of valid value
at once (``classes.py``):

* ``combined``: every class that combines, in name, description and metadata, force false; the snapshot is
  then read back, waited for and deleted (LIFE-READ, LIFE-SETTLE, LIFE-DELETE);
* ``empty``, ``whitespace`` (force true on the in-use disk: REQ-FORCE-TRUE) and ``omitted``: the classes that
  are whole values (empty, whitespace only, ``null`` where the contract allows it, an empty map), force true,
  force omitted;
* ``example``: the page's own request example;
* ``reserved-prefix``: one name with the reserved backup prefix, recorded, never judged (ADV-AUTOBK).

Every accepted answer is checked like any other (schema, time format, size, status, echo, a fresh ID). A
body that is refused is split (``split.py``) to find the field and the class the target refused.

Example::

    for planned in plan(contract, in_use=True):
        planned.body(contract, disk)      # {"snapshot": {"volume_id": disk, "name": ..., ...}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from conformance.contract import JSON, Contract
from conformance.rules.creates.classes import Carried, Part, carried_metadata, carried_text
from conformance.rules.oracle import FIELD_REQUIREMENTS

Disk = Literal["available", "in-use"]
#: The text fields whose classes the plan carries.
TEXT_FIELDS = ("name", "description")
#: What a plan body proves once accepted, beyond the checks of every 202.
ACCEPTED_FIELD_REQUIREMENTS = {
    name: FIELD_REQUIREMENTS[name] for name in ("name", "description", "force", "metadata")
}


@dataclass(frozen=True)
class PlannedBody:
    """One create of the plan: its disk, the fields it always sends, and the classes each field carries.

    ``base`` holds what a split keeps in every body (``force: true`` on the in-use disk); ``focus`` is the
    requirement an unexplained refusal is charged to.
    """

    key: str
    title: str
    disk: Disk
    carried: tuple[Carried, ...] = ()
    base: Mapping[str, JSON] = field(default_factory=dict)
    focus: str = "OP-ACCEPT"

    def body(self, contract: Contract, disk_id: str, carried: Sequence[Carried] | None = None) -> JSON:
        """The request body for ``disk_id``, with ``carried`` fields (default: all of this body's)."""
        fields = self.carried if carried is None else carried
        snapshot: dict[str, JSON] = {"volume_id": disk_id, **self.base}
        for item in fields:
            snapshot[item.field] = item.value()
        return {contract.snapshot_key: snapshot}


def _whole(field_name: str, part: Part, *, is_map: bool = False) -> Carried:
    return Carried(field_name, (part,), map=is_map)


def _boolean(value: bool) -> Part:
    return Part("true" if value else "false", "whole", value=value)


def plan(contract: Contract, *, in_use: bool) -> tuple[PlannedBody, ...]:
    """The plan for this contract; without an in-use disk the force-true body goes to the available disk."""
    texts = {name: carried_text(contract, name) for name in TEXT_FIELDS}
    metadata, map_wholes = carried_metadata(contract)
    name, name_wholes = texts["name"]
    description, description_wholes = texts["description"]
    combined = PlannedBody(
        "combined",
        "every class that combines, in name, description and metadata, force false",
        "available",
        (name, description, metadata, _whole("force", _boolean(False))),
    )
    # The whole-value classes go one to a body: empty first, then whitespace, then null where allowed.
    names = _by_kind(name_wholes, ("empty", "whitespace", "null"))
    descriptions = _by_kind(description_wholes, ("null", "whitespace", "empty"))
    maps = _by_kind(map_wholes, ("empty map", "null"))
    empty_fields = (
        *_present(("name", names[0]), ("description", descriptions[0]), ("metadata", maps[0])),
        _whole("force", _boolean(True)),
    )
    empty = PlannedBody("empty", _titled(empty_fields), "available", empty_fields)
    busy_fields = _present(("name", names[1]), ("description", descriptions[1]), ("metadata", maps[1]))
    busy = PlannedBody(
        "whitespace",
        _titled(busy_fields)
        + "; force true"
        + (" on the in-use disk" if in_use else " (no in-use disk given)"),
        "in-use" if in_use else "available",
        busy_fields,
        base={"force": True},
        focus="REQ-FORCE-TRUE" if in_use else "OP-ACCEPT",
    )
    omitted_fields = _present(("name", names[2]), ("description", descriptions[2]))
    omitted = PlannedBody("omitted", _titled(omitted_fields) + "; force omitted", "available", omitted_fields)
    bodies = [combined, empty, busy, omitted]
    if contract.request_examples:
        bodies.append(_example(contract))
    prefixes = contract.field("name").schema.get("x-reserved-prefixes") or ()
    if prefixes:
        limit = contract.field("name").max_length
        probe = (str(prefixes[0]) + "conformance-probe")[:limit]
        part = Part(f"the reserved prefix {prefixes[0]!r}", "whole", value=probe)
        bodies.append(
            PlannedBody(
                "reserved-prefix",
                f"one name with the reserved prefix {prefixes[0]!r} (recorded, never judged)",
                "available",
                (_whole("name", part),),
                focus="ADV-AUTOBK",
            )
        )
    return tuple(bodies)


def _example(contract: Contract) -> PlannedBody:
    example = contract.request_examples[0]
    snapshot = example.get(contract.snapshot_key, {}) if isinstance(example, Mapping) else {}
    carried = tuple(
        _whole(
            name, Part("as in the page's example", "whole", value=value), is_map=isinstance(value, Mapping)
        )
        for name, value in snapshot.items()
        if name != "volume_id"
    )
    return PlannedBody("example", "the page's request example", "available", carried)


def _titled(carried: Sequence[Carried]) -> str:
    """A whole-value body as a reader takes it in: each field and its class."""
    return ", ".join(f"{item.field} {item.labels.split(' (')[0]}" for item in carried) or "volume_id only"


def _by_kind(parts: Sequence[Part], order: Sequence[str]) -> list[Part | None]:
    """The whole-value parts in ``order`` (by how their label starts), None where the contract has none."""
    found: list[Part | None] = []
    for word in order:
        found.append(next((p for p in parts if p.label.startswith(word)), None))
    return found


def _present(*fields: tuple[str, Part | None]) -> tuple[Carried, ...]:
    return tuple(_whole(name, part, is_map=name == "metadata") for name, part in fields if part is not None)

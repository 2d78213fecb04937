"""Overlays: reviewed YAML data that states what the page's prose cannot, applied to a built document.

An overlay file is a list of operations, each aimed at a JSON pointer (``~1`` escapes ``/``); a pointer
starting with ``@operation`` means the page's one operation (``/paths/<path>/<method>``)::

    note: overlay cinder.yaml            # appended to the x-source of what an operation touches
    operations:
      - op: merge                        # deep-merge a mapping into an existing node
        path: /components/schemas/SnapshotSummary/properties/status
        value: {enum: [creating, available]}
        note: EVS Snapshot Status (overlay common.yaml)   # optional, replaces the file's note
        why: the page lists the values in an appendix     # for reviewers; not copied anywhere
      - {op: set, path: /x-conformance/trims-whitespace, value: true}   # create or replace
      - {op: nullable, path: /components/schemas/SnapshotSummary/properties/name}
      - {op: remove, path: /components/schemas/CinderCreateSnapshotOption/properties/force/type}
      - {op: rename-keys, path: /paths, match: ^/v2/, replace: /v3/}   # regex substitution on keys

``merge``, ``nullable``, ``remove`` and ``rename-keys`` fail when their target is missing, so an overlay
that no longer fits the page is an error rather than a silent no-op.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from conformance.contract.specbuild.document import nullable
from conformance.contract.specbuild.model import JSON
from conformance.core.errors import SpecError

OPERATIONS = ("set", "merge", "nullable", "remove", "rename-keys")
_KEYS = frozenset({"op", "path", "value", "note", "why", "match", "replace"})


@dataclass(frozen=True)
class Operation:
    """One overlay operation, with the line of the overlay file it was written on."""

    op: str
    path: str
    line: int
    value: JSON = None
    note: str = ""
    match: str = ""
    replace: str = ""


@dataclass(frozen=True)
class Overlay:
    """A named list of operations (``common.yaml``, ``cinder.yaml``)."""

    source: str
    note: str
    operations: tuple[Operation, ...]


def parse_overlay(text: str, *, source: str) -> Overlay:
    """Read an overlay file's text; ``source`` (its file name) names it in messages and in ``x-source``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SpecError(f"{source}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("operations"), list):
        raise SpecError(f"{source}:1: an overlay is a mapping with an 'operations' list")
    lines = _operation_lines(root)
    operations = []
    for n, raw in enumerate(data["operations"]):
        line = lines[n] if n < len(lines) else 1
        if not isinstance(raw, Mapping):
            raise SpecError(f"{source}:{line}: an operation is a mapping with 'op' and 'path'")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise SpecError(
                f"{source}:{line}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
            )
        if raw.get("op") not in OPERATIONS:
            raise SpecError(
                f"{source}:{line}: op must be one of {', '.join(OPERATIONS)}, not {raw.get('op')!r}"
            )
        if not isinstance(raw.get("path"), str) or not raw["path"].startswith(("/", "@operation")):
            raise SpecError(f"{source}:{line}: path must be a JSON pointer such as /components/schemas/X")
        if raw["op"] in ("set", "merge") and "value" not in raw:
            raise SpecError(f"{source}:{line}: {raw['op']} needs a value")
        if raw["op"] == "merge" and not isinstance(raw["value"], Mapping):
            raise SpecError(f"{source}:{line}: merge needs a mapping value")
        if raw["op"] == "rename-keys" and not ("match" in raw and "replace" in raw):
            raise SpecError(f"{source}:{line}: rename-keys needs match and replace")
        operations.append(
            Operation(
                raw["op"],
                raw["path"],
                line,
                raw.get("value"),
                str(raw.get("note", "")),
                str(raw.get("match", "")),
                str(raw.get("replace", "")),
            )
        )
    return Overlay(source, str(data.get("note", f"overlay {source}")), tuple(operations))


def _operation_lines(root: yaml.Node | None) -> list[int]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "operations" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _segments(document: Mapping[str, JSON], path: str) -> list[str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")]
    if parts[0] == "@operation":
        paths = document.get("paths", {})
        operations = [(p, m) for p, item in paths.items() for m in item]
        if len(operations) != 1:
            raise LookupError("@operation needs exactly one operation in the document")
        return ["paths", *operations[0], *parts[1:]]
    return parts[1:]


def _walk(node: JSON, segments: list[str], *, create: bool = False) -> tuple[JSON, str, list[JSON]]:
    """The parent of the target, the target's key, and every node passed on the way (root first)."""
    trail = [node]
    for segment in segments[:-1]:
        if isinstance(node, list):
            node = node[int(segment)]
        elif isinstance(node, dict):
            if segment not in node:
                if not create:
                    raise LookupError(f"no {segment!r}")
                node[segment] = {}
            node = node[segment]
        else:
            raise LookupError(f"{segment!r} is inside a {type(node).__name__}")
        trail.append(node)
    return node, segments[-1], trail


def _merged(base: JSON, extra: JSON) -> JSON:
    if isinstance(base, dict) and isinstance(extra, Mapping):
        result = dict(base)
        for key, value in extra.items():
            result[key] = _merged(result[key], value) if key in result else copy.deepcopy(value)
        return result
    return copy.deepcopy(extra)


def _annotate(trail: list[JSON], note: str) -> None:
    """Append ``note`` to the x-source of the nearest enclosing node that has one."""
    for node in reversed(trail):
        if isinstance(node, dict) and isinstance(node.get("x-source"), str):
            if note not in node["x-source"]:
                node["x-source"] = f"{node['x-source']}; {note}"
            return


def _apply_one(document: dict[str, Any], operation: Operation, note: str) -> None:
    segments = _segments(document, operation.path)
    if not segments:
        raise LookupError("the path names the whole document")
    parent, key, trail = _walk(document, segments, create=operation.op == "set")
    if isinstance(parent, list):
        index = int(key)
        if operation.op != "set" and not -len(parent) <= index < len(parent):
            raise LookupError(f"no item {index}")
    elif not isinstance(parent, dict):
        raise LookupError(f"{key!r} is inside a {type(parent).__name__}")
    elif operation.op != "set" and key not in parent:
        raise LookupError(f"no {key!r}")
    slot: Any = int(key) if isinstance(parent, list) else key
    if operation.op == "set":
        parent[slot] = copy.deepcopy(operation.value)
    elif operation.op == "merge":
        if not isinstance(parent[slot], dict):
            raise LookupError("merge target is not a mapping")
        parent[slot] = _merged(parent[slot], operation.value)
    elif operation.op == "nullable":
        nullable(parent[slot])
    elif operation.op == "remove":
        del parent[slot]
        _annotate(trail, note)
        return
    elif operation.op == "rename-keys":
        target = parent[slot]
        if not isinstance(target, dict):
            raise LookupError("rename-keys target is not a mapping")
        parent[slot] = {re.sub(operation.match, operation.replace, k): v for k, v in target.items()}
    _annotate([*trail, parent[slot]], note)


def apply_overlay(document: dict[str, Any], overlay: Overlay) -> dict[str, Any]:
    """A copy of ``document`` with the overlay's operations applied in order."""
    result = copy.deepcopy(document)
    for operation in overlay.operations:
        try:
            _apply_one(result, operation, operation.note or overlay.note)
        except (LookupError, ValueError, re.error) as exc:
            raise SpecError(
                f"{overlay.source}:{operation.line}: {operation.op} {operation.path}: {exc}"
                " (does the overlay still fit the page?)"
            ) from exc
    return result

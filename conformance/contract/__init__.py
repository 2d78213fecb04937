"""The contract as data: one loaded OpenAPI document, seen through the questions the mock and the suite ask.

Everything that states a limit, a type, an enum, a status code or an error envelope is read from the
committed spec (``spec/evs-snapshot-<profile>.yaml``); nothing here repeats it.

Example::

    contract = load_contract("huawei")
    contract.field("name").max_length          # 64, from Table 4
    contract.validator("summary").is_valid(b)  # the SnapshotSummary schema, compiled once
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from conformance.core.errors import SpecError

PROFILES = ("huawei", "cinder")
JSON = Any
_PLANE_SIZE = 0x10000


def spec_dir() -> Path:
    """Where the committed contract lives: ``spec/`` in a checkout, ``conformance/specdata`` in a wheel."""
    packaged = importlib.resources.files("conformance") / "specdata"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "spec"


def spec_path(profile: str) -> Path:
    return spec_dir() / f"evs-snapshot-{profile}.yaml"


@dataclass(frozen=True)
class FieldRule:
    """What the contract says of one request field of the snapshot object."""

    name: str
    required: bool
    schema: Mapping[str, JSON]
    source: str

    @property
    def types(self) -> tuple[str, ...]:
        declared = self.schema.get("type")
        if declared is None:
            return tuple(t for sub in self.schema.get("anyOf", ()) for t in _as_tuple(sub.get("type")))
        return _as_tuple(declared)

    @property
    def nullable(self) -> bool:
        return "null" in self.types

    @property
    def max_length(self) -> int | None:
        value = self.schema.get("maxLength")
        return int(value) if value is not None else None

    @property
    def default(self) -> JSON:
        return self.schema.get("default")

    @property
    def value_schema(self) -> Mapping[str, JSON] | None:
        """For a map field, the schema of its values."""
        extra = self.schema.get("additionalProperties")
        return extra if isinstance(extra, Mapping) else None

    @property
    def boolean_like_strings(self) -> Mapping[str, bool]:
        """For a Boolean that also takes strings (the cinder profile), each such string and its meaning."""
        for sub in self.schema.get("anyOf", ()):
            if "string" in _as_tuple(sub.get("type")) and "enum" in sub:
                true_values = {str(v) for v in sub.get("x-true-values", ())}
                return MappingProxyType({str(v): str(v) in true_values for v in sub["enum"]})
        return MappingProxyType({})

    @property
    def printable_only(self) -> bool:
        """Whether the field takes only printable characters (``x-printable-only``), beyond its pattern."""
        return "x-printable-only" in self.schema

    @property
    def excluded_categories(self) -> tuple[str, ...]:
        """Unicode categories (major such as ``C`` or minor such as ``Zl``) a printable-only field refuses."""
        return tuple(str(c) for c in self._printable.get("exclude-categories", ()))

    @property
    def max_codepoint(self) -> int | None:
        """The highest code point a printable-only field takes (the end of its last allowed plane)."""
        planes = self._printable.get("planes")
        return (max(int(p) for p in planes) + 1) * _PLANE_SIZE - 1 if planes else None

    def unprintable(self, text: str) -> str:
        """The characters of ``text`` that a printable-only field refuses, in order (empty when none)."""
        if not self.printable_only:
            return ""
        planes = {int(p) for p in self._printable.get("planes", ())}
        refused = self.excluded_categories
        return "".join(
            char
            for char in text
            if (planes and ord(char) // _PLANE_SIZE not in planes)
            or unicodedata.category(char).startswith(refused)
        )

    @property
    def _printable(self) -> Mapping[str, JSON]:
        rule = self.schema.get("x-printable-only")
        return rule if isinstance(rule, Mapping) else {}


@dataclass(frozen=True)
class Refusal:
    """How the target must refuse one kind of bad request: the status and that status's body schema."""

    kind: str
    status: int
    body_schema: Mapping[str, JSON] | None


@dataclass(frozen=True)
class Contract:
    """One profile's contract, read from its OpenAPI document.

    The derived views are cached on first use: the checks and the oracle ask for them on every exchange.
    """

    profile: str
    document: Mapping[str, JSON]
    path_template: str
    api_prefix: str
    semantics: Mapping[str, JSON]
    _schemas: dict[str, dict[str, JSON]] = field(default_factory=dict, repr=False, compare=False)
    _validators: dict[str, jsonschema.protocols.Validator] = field(
        default_factory=dict, repr=False, compare=False
    )
    _fast_validators: dict[str, jsonschema_rs.Validator] = field(
        default_factory=dict, repr=False, compare=False
    )
    _response_schemas: dict[int, Mapping[str, JSON] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    # -- the operation --------------------------------------------------------------------------------
    @functools.cached_property
    def operation(self) -> Mapping[str, JSON]:
        return self.document["paths"][self.path_template]["post"]  # type: ignore[no-any-return]

    @functools.cached_property
    def documented_statuses(self) -> frozenset[int]:
        return frozenset(int(code) for code in self.operation["responses"])

    @functools.cached_property
    def auth_statuses(self) -> frozenset[int]:
        """The refusals allowed for authentication reasons (401/403), as documented."""
        return frozenset(
            int(code) for code, rsp in self.operation["responses"].items() if rsp.get("x-auth-refusal")
        )

    @functools.cached_property
    def accepted_status(self) -> int:
        return min(s for s in self.documented_statuses if 200 <= s < 300)

    @functools.cached_property
    def token_header(self) -> str:
        scheme = next(iter(self.document["components"]["securitySchemes"].values()))
        return str(scheme["name"])

    def response_schema(self, status: int) -> Mapping[str, JSON] | None:
        """The resolved body schema documented for ``status``, or None where none is documented."""
        # Asked for on every refusal, by the mock and by the checks: resolved once per status.
        if status not in self._response_schemas:
            rsp = self.operation["responses"].get(str(status))
            has_body = bool(rsp) and "content" in rsp
            schema = rsp["content"]["application/json"]["schema"] if has_body else None
            self._response_schemas[status] = None if schema is None else self._resolved(schema)
        return self._response_schemas[status]

    def response_source(self, status: int) -> str:
        """Where the page documents ``status`` (``Status Codes/400``), else its table of status codes."""
        rsp = self.operation["responses"].get(str(status), {})
        return str(rsp.get("x-source", self.status_table))

    @functools.cached_property
    def status_table(self) -> str:
        """The name of the page's table of status codes, as the documented responses cite it."""
        cited = (str(r.get("x-source", "")) for r in self.operation["responses"].values())
        return next((source.split("/", 1)[0] for source in cited if "/" in source), "")

    @functools.cached_property
    def token_source(self) -> str:
        """Where the page documents the token header (its table row)."""
        scheme = next(iter(self.document["components"]["securitySchemes"].values()))
        return str(scheme.get("x-source", ""))

    @functools.cached_property
    def media_type_source(self) -> str:
        """Where the page shows the media type of its answers: the section of its example responses."""
        for response in self.operation["responses"].values():
            for media in response.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    if example.get("x-source"):
                        return str(example["x-source"])
        return ""

    # -- the request ----------------------------------------------------------------------------------
    @functools.cached_property
    def request_schema(self) -> Mapping[str, JSON]:
        schema = self.operation["requestBody"]["content"]["application/json"]["schema"]
        return self._resolved(schema)

    @functools.cached_property
    def snapshot_key(self) -> str:
        """The top-level key that wraps the snapshot object (``snapshot``)."""
        return str(self.request_schema["required"][0])

    @functools.cached_property
    def snapshot_schema(self) -> Mapping[str, JSON]:
        return self._resolved(self.document["components"]["schemas"][self.semantics["snapshot-object"]])

    @functools.cached_property
    def fields(self) -> tuple[FieldRule, ...]:
        schema = self.snapshot_schema
        required = set(schema.get("required", ()))
        return tuple(
            FieldRule(name, name in required, prop, str(prop.get("x-source", "")))
            for name, prop in schema["properties"].items()
        )

    def field(self, name: str) -> FieldRule:
        for rule in self.fields:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def refusal(self, kind: str) -> Refusal:
        """How a refusal of ``kind`` (invalid-body, unknown-volume, null-volume-id, volume-busy) looks."""
        status = int(self.semantics["refusals"][kind]["status"])
        return Refusal(kind, status, self.response_schema(status))

    @property
    def request_examples(self) -> list[JSON]:
        content = self.operation["requestBody"]["content"]["application/json"]
        return [ex["value"] for ex in content.get("examples", {}).values()]

    # -- the response ---------------------------------------------------------------------------------
    @functools.cached_property
    def summary_key(self) -> str:
        """The top-level key that wraps the SnapshotSummary in a 202 (``snapshot``)."""
        body = self.response_schema(self.accepted_status)
        assert body is not None
        return str(body["required"][0])

    @functools.cached_property
    def summary_schema(self) -> Mapping[str, JSON]:
        return self._resolved(self.document["components"]["schemas"][self.semantics["summary-object"]])

    @functools.cached_property
    def snapshot_statuses(self) -> tuple[str, ...]:
        return tuple(self.summary_schema["properties"]["status"]["enum"])

    @functools.cached_property
    def time_pattern(self) -> str:
        return str(self.summary_schema["properties"]["created_at"]["pattern"])

    @functools.cached_property
    def busy_volume_statuses(self) -> frozenset[str]:
        return frozenset(self.semantics.get("busy-volume-statuses", ()))

    @functools.cached_property
    def trims_whitespace(self) -> bool:
        return bool(self.semantics.get("trims-whitespace", False))

    # -- compiled validators --------------------------------------------------------------------------
    def validator(self, what: str | int) -> jsonschema.protocols.Validator:
        """A compiled validator: ``"request"``, ``"summary"`` (the 202 body) or a status code."""
        key = str(what)
        if key not in self._validators:
            if what == "request":
                schema: Mapping[str, JSON] | None = self.request_schema
            elif what == "summary":
                schema = self.response_schema(self.accepted_status)
            else:
                schema = self.response_schema(int(what))
            if schema is None:
                raise KeyError(f"no body schema documented for {what!r}")
            self._validators[key] = jsonschema.Draft202012Validator(schema)
        return self._validators[key]

    def fast_validator(self, what: str | int) -> jsonschema_rs.Validator:
        """The schema of ``validator(what)`` compiled for a quick yes/no; ask ``validator`` for the errors."""
        key = str(what)
        if key not in self._fast_validators:
            self._fast_validators[key] = jsonschema_rs.Draft202012Validator(self.validator(what).schema)
        return self._fast_validators[key]

    def _resolved(self, schema: Mapping[str, JSON]) -> dict[str, JSON]:
        key = json.dumps(schema, sort_keys=True, default=str)
        if key not in self._schemas:
            self._schemas[key] = _inline_refs(self.document, schema)
        return self._schemas[key]

    def __hash__(self) -> int:
        return hash((self.profile, self.path_template))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints a failing test's arguments this way; the document and compiled validators
        # would make that hundreds of kilobytes, when the profile and path say which contract it is.
        printer.text(f"Contract(profile={self.profile!r}, path_template={self.path_template!r})")


def _as_tuple(value: JSON) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(value)
    return (str(value),)


def _inline_refs(document: Mapping[str, JSON], schema: JSON) -> JSON:
    """A copy of ``schema`` with every local ``$ref`` replaced by its target (the contract has no cycles)."""
    if isinstance(schema, Mapping):
        if "$ref" in schema:
            target: JSON = document
            for part in str(schema["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            resolved = _inline_refs(document, target)
            # Keys beside a $ref (its description, its x-source) describe this use of the type: keep them.
            resolved.update({k: _inline_refs(document, v) for k, v in schema.items() if k != "$ref"})
            return resolved
        return {k: _inline_refs(document, v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline_refs(document, v) for v in schema]
    return copy.copy(schema)


def contract_from_document(document: Mapping[str, JSON], *, api_prefix: str | None = None) -> Contract:
    """Build a Contract from an already loaded OpenAPI document (``api_prefix`` overrides the profile's)."""
    try:
        semantics = document["x-conformance"]
        (path_template,) = document["paths"].keys()
        profile = str(semantics["profile"])
        prefix = str(semantics["api-prefix"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"not an evs-conformance contract: missing {exc}") from exc
    if api_prefix is not None and api_prefix != prefix:
        if not path_template.startswith(prefix + "/"):
            raise SpecError(f"path {path_template} does not start with the profile prefix {prefix}")
        moved = copy.deepcopy(dict(document))
        new_path = api_prefix + path_template[len(prefix) :]
        moved["paths"] = {new_path: moved["paths"][path_template]}
        document = moved
        path_template, prefix = new_path, api_prefix
    return Contract(profile, document, path_template, prefix, semantics)


def load_contract(
    profile: str = "huawei", *, path: Path | None = None, api_prefix: str | None = None
) -> Contract:
    """Load a profile's committed contract (or the OpenAPI file at ``path``)."""
    if path is None:
        if profile not in PROFILES:
            raise SpecError(f"unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
        path = spec_path(profile)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the contract: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, Mapping):
        raise SpecError(f"{path}: not an OpenAPI document")
    return contract_from_document(document, api_prefix=api_prefix)

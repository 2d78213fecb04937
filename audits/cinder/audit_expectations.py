"""Expected verdicts as data, and their comparison with what ``evs-conformance run`` reported.

``expected.yaml`` maps each profile to the extra ``run`` options it needs and, per requirement ID, the
verdict a correct suite must give against Cinder 29.0.0 with the reason. Anything else is a difference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VERDICTS = frozenset({"pass", "fail", "skip", "info"})
EXPECTED_FILE = Path(__file__).with_name("expected.yaml")


class ExpectationError(Exception):
    """expected.yaml or a conformance.json cannot be read as the harness needs it."""


@dataclass(frozen=True)
class Expectation:
    """One requirement's expected verdict against this Cinder, and why."""

    requirement: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class ProfilePlan:
    """How one profile is run against Cinder and what it must report."""

    profile: str
    run_options: tuple[str, ...]
    expectations: Mapping[str, Expectation]


@dataclass(frozen=True)
class Difference:
    """A requirement whose reported verdict is not the expected one (either side may be missing)."""

    requirement: str
    expected: str | None
    reported: str | None
    reason: str
    evidence: str

    def describe(self) -> str:
        expected = self.expected or "no expectation"
        reported = self.reported or "not reported"
        line = f"{self.requirement}: expected {expected}, reported {reported}"
        if self.reason:
            line += f"\n    expected because: {self.reason}"
        if self.evidence:
            line += f"\n    evidence: {self.evidence}"
        return line


def load_plans(path: Path = EXPECTED_FILE) -> dict[str, ProfilePlan]:
    """Every profile's plan from ``path``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ExpectationError(f"{path}: {exc}") from exc
    return parse_plans(document, source=str(path))


def parse_plans(document: Any, *, source: str = "expected.yaml") -> dict[str, ProfilePlan]:
    """Plans from the loaded YAML document, with every entry checked."""
    if not isinstance(document, Mapping) or not isinstance(document.get("profiles"), Mapping):
        raise ExpectationError(f"{source}: wants a top-level 'profiles' mapping")
    plans = {}
    for profile, entry in document["profiles"].items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("requirements"), Mapping):
            raise ExpectationError(f"{source}: profile {profile!r} wants a 'requirements' mapping")
        options = entry.get("run-options", [])
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise ExpectationError(f"{source}: profile {profile!r}: 'run-options' must be a list of strings")
        expectations = {}
        for requirement, expected in entry["requirements"].items():
            if not isinstance(expected, Mapping) or expected.get("verdict") not in VERDICTS:
                raise ExpectationError(
                    f"{source}: {profile}/{requirement}: 'verdict' must be one of "
                    + ", ".join(sorted(VERDICTS))
                )
            reason = str(expected.get("reason", "")).strip()
            if expected["verdict"] != "pass" and not reason:
                raise ExpectationError(
                    f"{source}: {profile}/{requirement}: a non-pass verdict needs a reason"
                )
            expectations[str(requirement)] = Expectation(str(requirement), str(expected["verdict"]), reason)
        plans[str(profile)] = ProfilePlan(str(profile), tuple(options), expectations)
    return plans


def reported_verdicts(report: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Requirement ID -> (verdict, evidence) from a parsed conformance.json."""
    requirements = report.get("requirements")
    if not isinstance(requirements, list):
        raise ExpectationError("conformance.json has no 'requirements' list")
    verdicts = {}
    for item in requirements:
        if not isinstance(item, Mapping) or "id" not in item or "verdict" not in item:
            raise ExpectationError(f"conformance.json: requirement entry without id/verdict: {item!r}")
        verdicts[str(item["id"])] = (str(item["verdict"]), _evidence_text(item.get("evidence")))
    return verdicts


def read_report(path: Path) -> dict[str, tuple[str, str]]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExpectationError(f"{path}: {exc}") from exc
    if not isinstance(report, Mapping):
        raise ExpectationError(f"{path}: not a JSON object")
    return reported_verdicts(report)


def compare(plan: ProfilePlan, reported: Mapping[str, tuple[str, str]]) -> list[Difference]:
    """Every requirement whose verdict differs from the plan: the plan's IDs first, then unexpected ones."""
    differences = []
    for requirement, expected in plan.expectations.items():
        verdict, evidence = reported.get(requirement, (None, ""))
        if verdict != expected.verdict:
            differences.append(Difference(requirement, expected.verdict, verdict, expected.reason, evidence))
    for requirement, (verdict, evidence) in reported.items():
        if requirement not in plan.expectations:
            differences.append(Difference(requirement, None, verdict, "", evidence))
    return differences


def summary_rows(
    plan: ProfilePlan, reported: Mapping[str, tuple[str, str]]
) -> Sequence[tuple[str, str, str, str]]:
    """(requirement, expected, reported, reason) for every requirement either side names."""
    names = list(plan.expectations) + [r for r in reported if r not in plan.expectations]
    rows = []
    for name in names:
        expected = plan.expectations.get(name)
        rows.append(
            (
                name,
                expected.verdict if expected else "-",
                reported.get(name, ("-", ""))[0],
                expected.reason if expected else "",
            )
        )
    return rows


def _evidence_text(evidence: Any, limit: int = 400) -> str:
    if evidence is None:
        return ""
    text = evidence if isinstance(evidence, str) else json.dumps(evidence, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."

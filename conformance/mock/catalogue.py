"""What a quirk is and the rules a catalogue of quirks keeps, checked when the catalogue loads.

A quirk is a record: its name, the requirement it breaks, one line on what goes wrong, the profiles it is a
deviation in, its hooks (``hooks.py``), and every other requirement it breaks with the reason why. The
mutation matrix holds the suite to exactly that set of failures. ``check_catalogue`` refuses a catalogue
whose names repeat or are unreadable, whose requirement IDs are not in the requirement catalogue, whose
hooks name no real hook point, that leaves a switch or status point unused, or whose ``applies`` is not
sane (it must answer true or false for every profile, be true for one, and agree with the statuses the
quirk replaces).
``compile_quirks`` turns chosen records into the ``Deviations`` the service consults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType

from conformance.contract import PROFILES, Contract, load_contract
from conformance.contract.requirements import load_requirements
from conformance.core.errors import SpecError
from conformance.mock.hooks import (
    SWITCHES,
    Answer,
    Deviations,
    Hook,
    RequestRewrite,
    SchemaRewrite,
    Status,
    Switch,
    ViewRewrite,
    ViewScope,
)

_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
_INVALID_BODY = "invalid-body"


class CatalogueError(SpecError):
    """The quirk catalogue contradicts itself, the requirement catalogue or a contract."""


def _always(_: Contract) -> bool:
    return True


@dataclass(frozen=True)
class Quirk:
    """One deliberate deviation: ``name`` says what is wrong, ``breaks`` is the requirement ID it violates.

    ``also_breaks`` names every other requirement the deviation breaks, in the first profile it applies to
    (where the mutation matrix runs it), each with a line on why: the suite must fail exactly ``fails``.
    """

    name: str
    breaks: str
    summary: str
    hooks: tuple[Hook, ...]
    applies: Callable[[Contract], bool] = _always
    also_breaks: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def applies_to(self, contract: Contract) -> bool:
        """Whether this is a deviation in the profile (a 404 for an unknown disk is right for cinder)."""
        return self.applies(contract)

    @property
    def fails(self) -> frozenset[str]:
        """Every requirement a run against the quirk fails: the one it names and those it also breaks."""
        return frozenset({self.breaks, *self.also_breaks})


# -- statuses ----------------------------------------------------------------------------------------------
def default_status(point: Answer, contract: Contract) -> int:
    """The status the clean service answers at ``point`` in this profile."""
    if point in (Answer.UNKNOWN_VOLUME, Answer.NULL_VOLUME_ID, Answer.VOLUME_BUSY):
        return contract.refusal(point.value).status
    if point in (Answer.INVALID_NAME, Answer.MALFORMED_BODY):
        return contract.refusal(_INVALID_BODY).status
    if point is Answer.ACCEPTED_CREATE:
        return contract.accepted_status
    # The page has no delete; 202 is OpenStack's answer to one, which the lifecycle requirements expect.
    return HTTPStatus.ACCEPTED


def _replacement(hook: Status, contract: Contract) -> int:
    """The status a Status hook answers with: its own, or the contract's for the refusal kind it names."""
    return hook.status if isinstance(hook.status, int) else contract.refusal(hook.status).status


# -- the load-time checks ----------------------------------------------------------------------------------
_POINTS = frozenset(Answer)
_SCOPES = frozenset(ViewScope)


def _hook_problems(quirk: Quirk, contracts: Sequence[Contract]) -> list[str]:
    problems = []
    for hook in quirk.hooks:
        if isinstance(hook, Switch):
            if hook.name not in SWITCHES:
                problems.append(f"switch {hook.name!r} is no rule or HTTP behaviour of the mock")
        elif isinstance(hook, Status):
            if hook.point not in _POINTS:
                problems.append(f"status point {hook.point!r} is not one of {', '.join(Answer)}")
            if isinstance(hook.status, str):
                unknown = [c.profile for c in contracts if hook.status not in c.semantics["refusals"]]
                if unknown:
                    problems.append(f"{hook.status!r} is no refusal kind of {', '.join(unknown)}")
            elif (
                isinstance(hook.status, bool)
                or not isinstance(hook.status, int)
                or not 100 <= hook.status < 600
            ):
                problems.append(f"status {hook.status!r} is not an HTTP status")
        elif isinstance(hook, ViewRewrite):
            if hook.scope not in _SCOPES:
                problems.append(f"view scope {hook.scope!r} is not one of {', '.join(ViewScope)}")
            if not callable(hook.rewrite):
                problems.append("its view rewrite is not a function")
        elif isinstance(hook, SchemaRewrite | RequestRewrite):
            if not callable(hook.rewrite):
                problems.append("its rewrite is not a function")
        else:
            problems.append(f"{hook!r} is not a hook")
    return problems


def _applies_problems(quirk: Quirk, contracts: Sequence[Contract]) -> list[str]:
    answers: dict[str, object] = {}
    for contract in contracts:
        try:
            answers[contract.profile] = quirk.applies(contract)
        except Exception as exc:  # any failure of a predicate is a catalogue defect
            return [f"applies fails for the {contract.profile} profile ({type(exc).__name__}: {exc})"]
    if not all(isinstance(answer, bool) for answer in answers.values()):
        return [f"applies answers {answers}, not true or false for each profile"]
    if not any(answers.values()):
        return ["applies to no profile, so it can never be switched on"]
    # A quirk that only replaces statuses deviates exactly where a replacement differs from the profile's
    # own status; applies must say so (the matrix runs each quirk in the first profile it applies to).
    problems = []
    statuses = [h for h in quirk.hooks if isinstance(h, Status)]
    for contract in contracts:
        for hook in statuses:
            point = Answer(hook.point)
            same = _replacement(hook, contract) == default_status(point, contract)
            if answers[contract.profile] and same:
                problems.append(f"applies to {contract.profile}, where {point} already answers that status")
            if not answers[contract.profile] and not same and len(statuses) == len(quirk.hooks):
                problems.append(f"does not apply to {contract.profile}, where it changes {point}")
    return problems


def check_catalogue(
    records: Iterable[Quirk],
    *,
    requirement_ids: Iterable[str] | None = None,
    contracts: Sequence[Contract] | None = None,
    complete: bool = True,
) -> Mapping[str, Quirk]:
    """The records by name, after every load-time check; a CatalogueError lists what is wrong.

    ``complete`` also requires every switch and status point of the mock to be used by some quirk.
    """
    ids = set(requirement_ids if requirement_ids is not None else (r.id for r in load_requirements()))
    contracts = contracts if contracts is not None else [load_contract(p) for p in PROFILES]
    problems: list[str] = []
    by_name: dict[str, Quirk] = {}
    for quirk in records:
        found = []
        if quirk.name in by_name:
            found.append("listed twice")
        if not _NAME.fullmatch(quirk.name):
            found.append("not a lower-case hyphenated name")
        if quirk.breaks not in ids:
            found.append(f"breaks {quirk.breaks!r}, which is not in the requirement catalogue")
        for also, why in quirk.also_breaks.items():
            if also not in ids or also == quirk.breaks:
                found.append(f"also breaks {also!r}, which is not another requirement of the catalogue")
            if not isinstance(why, str) or not why.strip():
                found.append(f"gives no reason why it also breaks {also!r}")
        if not quirk.summary.strip():
            found.append("no summary")
        if not quirk.hooks:
            found.append("no hook, so it changes nothing")
        hooks = _hook_problems(quirk, contracts)
        # The applies checks resolve the hooks' statuses, which only well-formed hooks have.
        found += hooks or _applies_problems(quirk, contracts)
        problems += [f"quirk {quirk.name!r}: {problem}" for problem in found]
        by_name.setdefault(quirk.name, quirk)
    if complete:
        used = {h.name for q in by_name.values() for h in q.hooks if isinstance(h, Switch)}
        used |= {h.point for q in by_name.values() for h in q.hooks if isinstance(h, Status)}
        unused = sorted((SWITCHES | _POINTS) - used)
        if unused:
            problems.append(f"no quirk uses {', '.join(unused)}")
    if problems:
        raise CatalogueError("the quirk catalogue is inconsistent: " + "; ".join(problems))
    return by_name


def compile_quirks(chosen: Iterable[Quirk], contract: Contract) -> Deviations:
    """What the chosen quirks change in this profile, given in catalogue order.

    Where two chosen quirks replace the same status, the one listed first wins; rewrites apply in the order
    of the quirks' names.
    """
    in_catalogue = list(chosen)
    statuses = {point.value: default_status(point, contract) for point in Answer}
    replaced: set[str] = set()
    for quirk in in_catalogue:
        for hook in quirk.hooks:
            if isinstance(hook, Status) and hook.point not in replaced:
                statuses[hook.point] = _replacement(hook, contract)
                replaced.add(hook.point)
    by_name = sorted(in_catalogue, key=lambda q: q.name)
    hooks = [hook for quirk in by_name for hook in quirk.hooks]
    views = [h for h in hooks if isinstance(h, ViewRewrite)]
    return Deviations(
        names=frozenset(q.name for q in in_catalogue),
        switches=frozenset(h.name for h in hooks if isinstance(h, Switch)),
        statuses=statuses,
        schema_rewrites=tuple(h.rewrite for h in hooks if isinstance(h, SchemaRewrite)),
        request_rewrites=tuple(h.rewrite for h in hooks if isinstance(h, RequestRewrite)),
        create_view=tuple(h.rewrite for h in views if h.scope in (ViewScope.EVERY, ViewScope.CREATE)),
        read_view=tuple(h.rewrite for h in views if h.scope in (ViewScope.EVERY, ViewScope.READ)),
    )

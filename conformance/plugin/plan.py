"""The plan of a run, printed by ``--dry-run`` instead of sending anything.

It names the profile and the target, the budget and cleanup, the planned creates, the target's limits the run
keeps, how many requests and creates the run sends at most and how long that takes at a given settle time
(``conformance.rules.creates.cost``), and each requirement with the tests that exercise it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from conformance.contract import Contract
from conformance.contract.requirements import Requirement
from conformance.plugin.budget import IdsOf, estimate, is_property_test
from conformance.rules.creates.cost import REQUEST_S, shown_duration, wall_time_s
from conformance.rules.creates.plan import PlannedBody, plan
from conformance.run.settings import RunSettings

_TESTS_SHOWN = 4


def render_plan(
    items: Sequence[pytest.Item],
    ids_of: IdsOf,
    *,
    settings: RunSettings,
    contract: Contract,
    catalogue: Mapping[str, Requirement],
) -> list[str]:
    """The plan as lines for a terminal."""
    target = settings.target
    if target is None:
        where = "the embedded mock (started by the run)"
        auth = "the mock's own token"
    else:
        where = f"{target.base_url}, project {target.project_id}, disk {target.available_volume_id}"
        if target.in_use_volume_id:
            where += f", in-use disk {target.in_use_volume_id}"
        auth = (
            f"password of {settings.credentials.username!r} at {settings.credentials.iam_url}"
            if settings.credentials is not None
            else "a fixed token"
        )
    requests, creates = estimate(items, ids_of, examples=settings.examples)
    planned = plan(contract, in_use=target is None or target.in_use_volume_id is not None)
    limit = settings.max_creates
    flag = settings.flag("max_creates")
    spare = f"{creates} generated" if limit is None else f"up to {max(limit - len(planned), 0)} generated"
    created = f"about {creates + len(planned)} (no {flag})" if limit is None else f"at most {limit} ({flag})"
    created += f": {len(planned)} planned, {spare}"
    cleanup = f"on, up to {settings.cleanup_timeout_s:g} s" if settings.cleanup else "off (--no-cleanup)"
    properties = sum(1 for item in items if is_property_test(item))
    lines = [
        "evs-conformance: dry run, nothing is sent",
        f"  profile:  {settings.profile} (POST {contract.path_template})",
        f"  target:   {where}",
        f"  auth:     {auth}",
        f"  tests:    {len(items)} ({properties} property tests of up to {settings.examples} cases each)",
        f"  requests: about {requests} (lifecycle polls, retries and shrinking of failures add more)",
        f"  plan:     {len(planned)} creates reach every requirement on a conformant target "
        "(splitting a refused body costs more):",
        *(f"    {p.key} ({p.disk} disk): {p.title}" for p in planned),
        f"  creates:  {created}",
        f"  limits:   {_limits(settings)}",
        *_time(
            settings,
            planned,
            generated=creates if limit is None else max(limit - len(planned), 0),
            requests=requests,
        ),
        f"  cleanup:  {cleanup}",
        f"  waivers:  {', '.join(w.id for w in settings.waivers) or 'none'}",
        "  requirements:",
    ]
    tests: dict[str, list[str]] = {}
    for item in items:
        for requirement in ids_of(item):
            tests.setdefault(requirement, []).append(item.nodeid.rsplit("/", 1)[-1])
    for requirement in [*catalogue, *(i for i in tests if i not in catalogue)]:
        names = tests.get(requirement, [])
        shown = ", ".join(names[:_TESTS_SHOWN]) + (
            f" and {len(names) - _TESTS_SHOWN} more" if len(names) > _TESTS_SHOWN else ""
        )
        lines.append(f"    {requirement}: {shown or 'no selected test (skip)'}")
    return lines


def _limits(settings: RunSettings) -> str:
    """The target's limits the run keeps, as the options name them."""

    def shown(value: int | None, what: str, option: str) -> str:
        rule = "no limit" if value is None else str(value)
        return f"{rule} {what} ({settings.flag(option)})"

    return ", ".join(
        (
            shown(settings.creating_per_disk, "being created per disk", "creating_per_disk"),
            shown(settings.snapshots_per_disk, "alive per disk", "snapshots_per_disk"),
            shown(settings.snapshots_per_project, "alive in the project", "snapshots_per_project"),
        )
    )


def _time(
    settings: RunSettings, planned: Sequence[PlannedBody], *, generated: int, requests: int
) -> list[str]:
    """The time lines: the planned creates and the whole budget at the settle time the user gave."""
    target = settings.target
    if target is None:
        return ["  time:     seconds (the embedded mock settles at once)"]
    disks = len(target.available_volume_ids)
    on_in_use = sum(1 for p in planned if p.disk == "in-use")
    on_available = len(planned) - on_in_use
    one_at_a_time = settings.creating_per_disk is not None
    settle = settings.settle_time_s

    def cost(available: int, sent: int) -> str:
        seconds = wall_time_s(
            on_available=available, on_in_use=on_in_use, disks=disks, settle_s=settle, requests=sent,
            one_at_a_time=one_at_a_time,
        )  # fmt: skip
        return shown_duration(seconds)

    plan_requests = 20 * len(planned)
    deadline = target.deadline_s
    return [
        f"  time:     about {cost(on_available, plan_requests)} for the planned creates, about "
        f"{cost(on_available + generated, requests + plan_requests)} for the whole run, at "
        f"{settle:g} s for a snapshot to settle ({settings.flag('settle_time')})"
        + (f"; the run stops at {settings.flag('deadline')} {deadline:g} s" if deadline is not None else ""),
        f"            (each create on a disk waits for the one before to settle; creates spread over {disks} "
        f"available disk(s), the in-use disk's beside them; {REQUEST_S:g} s a request)",
    ]

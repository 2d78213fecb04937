"""The plan of a run, printed by ``--dry-run`` instead of sending anything.

It names the profile and the target, the budget and cleanup, each requirement with the tests that exercise
it, and how many requests and creates the run sends at most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from conformance.contract import Contract
from conformance.plugin.budget import IdsOf, estimate, is_property_test
from conformance.requirements import Requirement
from conformance.settings import RunSettings

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
    limit = settings.max_creates
    flag = settings.flag("max_creates")
    created = f"about {creates} (no {flag})" if limit is None else f"at most {limit} ({flag})"
    cleanup = f"on, up to {settings.cleanup_timeout_s:g} s" if settings.cleanup else "off (--no-cleanup)"
    properties = sum(1 for item in items if is_property_test(item))
    lines = [
        "evs-conformance: dry run, nothing is sent",
        f"  profile:  {settings.profile} (POST {contract.path_template})",
        f"  target:   {where}",
        f"  auth:     {auth}",
        f"  tests:    {len(items)} ({properties} property tests of up to {settings.examples} cases each)",
        f"  requests: about {requests} (lifecycle polls, retries and shrinking of failures add more)",
        f"  creates:  {created}",
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

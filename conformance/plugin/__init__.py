"""The pytest plugin that runs the shipped suite against an endpoint (or the embedded mock) and reports.

Its parts: ``options`` (the ``--evs-*`` options, from the one option table), ``hooks`` (settings in, tests
ordered and planned, outcomes into the ledger, reports out), ``fixtures`` (what the suite's tests use),
``runtime`` (one process's state), ``acceptance`` (judging a create that should be accepted), ``budget``,
``cleanup``, ``plan`` and ``redaction``. pytest finds the hooks and fixtures on this module, so they are
imported here.

Example::

    pytest --pyargs conformance.suite                                   # against a fresh embedded mock
    pytest --pyargs conformance.suite --evs-base-url https://evs.example --evs-project-id P \\
        --evs-volume-id V -n 4                                          # token from $EVS_TOKEN
    pytest --pyargs conformance.suite --evs-target eu-west              # a target of evs-conformance.toml
"""

from __future__ import annotations

from conformance.plugin.fixtures import (
    evs_conclude,
    evs_contract,
    evs_in_use_volume,
    evs_ledger,
    evs_runtime,
    evs_settings,
    evs_target,
    evs_verify,
    evs_volumes,
)
from conformance.plugin.hooks import (
    Provided,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_collectstart,
    pytest_configure,
    pytest_configure_node,
    pytest_handlecrashitem,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtestloop,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
    pytest_xdist_make_scheduler,
    requirement_ids,
)

__all__ = [
    "Provided",
    "evs_conclude",
    "evs_contract",
    "evs_in_use_volume",
    "evs_ledger",
    "evs_runtime",
    "evs_settings",
    "evs_target",
    "evs_verify",
    "evs_volumes",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_collectstart",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_handlecrashitem",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtestloop",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "pytest_xdist_make_scheduler",
    "requirement_ids",
]

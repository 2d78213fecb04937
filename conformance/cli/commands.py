"""The list of subcommands; each lives in a module of its own in this package."""

from __future__ import annotations

import click

from conformance.cli.cleanup import cleanup
from conformance.cli.compare import compare
from conformance.cli.matrix import matrix
from conformance.cli.mock import mock
from conformance.cli.replay import replay
from conformance.cli.report import report
from conformance.cli.run import run
from conformance.cli.spec import spec

ALL: list[click.Command] = []
ALL.append(spec)
ALL.append(compare)
ALL.append(matrix)
ALL.append(report)
ALL.append(mock)
ALL.append(run)
ALL.append(cleanup)
ALL.append(replay)

"""``python -m conformance`` is the ``evs-conformance`` command."""

from __future__ import annotations

from conformance.cli import main

main()

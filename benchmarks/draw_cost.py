"""Print what drawing each strategy costs per Hypothesis example, engine included, against ``st.integers()``.

Run: ``python benchmarks/draw_cost.py [--examples N] [--rounds R] [--only SUBSTRING]``. Every strategy runs
``N`` generated examples of an empty test per round; rounds interleave all strategies, so a busy neighbour
on the machine skews all alike, and the median of the rounds is printed with its ratio to the baseline.
The choices and spans one example draws are counted in a separate, untimed pass (the counting itself
adds a layer that the timed pass must not pay for).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conformance.contract import JSON, Contract, load_contract
from conformance.rules.strategies import (
    create_bodies,
    descriptions,
    forces,
    invalid_create_bodies,
    invalid_metadata,
    metadata_maps,
    non_boolean_forces,
    overlong_descriptions,
    overlong_names,
    snapshot_names,
)

BASELINE = "integers"
#: A well-formed disk ID, as the suite's whole-body tests pass one.
VOLUME_ID = "5f4b6a55-2b6e-4f0e-9a43-0f1f3c1d2e7a"
PROFILES = ("huawei", "cinder")
FIELDS: dict[str, Callable[[Contract], st.SearchStrategy[JSON]]] = {
    "snapshot_names": snapshot_names,
    "overlong_names": overlong_names,
    "descriptions": descriptions,
    "overlong_descriptions": overlong_descriptions,
    "forces": forces,
    "non_boolean_forces": non_boolean_forces,
    "metadata_maps": metadata_maps,
    "invalid_metadata": invalid_metadata,
}


def cases() -> dict[str, st.SearchStrategy[JSON]]:
    """The strategies to measure by name, the baseline first."""
    found: dict[str, st.SearchStrategy[JSON]] = {BASELINE: st.integers()}
    for profile in PROFILES:
        contract = load_contract(profile)
        found[f"{profile} create_bodies"] = create_bodies(contract, volume_id=VOLUME_ID)
        found[f"{profile} invalid_create_bodies"] = invalid_create_bodies(contract, volume_id=VOLUME_ID)
        for name, build in FIELDS.items():
            found[f"{profile} {name}"] = build(contract)
    return found


def _settings(examples: int) -> settings:
    # Generation alone: no database replay, no shrinking, no deadline or health check to trip on a busy box.
    return settings(
        max_examples=examples,
        database=None,
        phases=(Phase.generate,),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def ms_per_example(strategy: st.SearchStrategy[JSON], examples: int) -> tuple[float, int]:
    """CPU milliseconds per example of an empty test drawing from ``strategy``, and how many examples ran
    (fewer than asked when Hypothesis has tried every value of a small strategy)."""
    calls = 0

    @_settings(examples)
    @given(strategy)
    def run(value: JSON) -> None:
        nonlocal calls
        calls += 1

    # CPU time of this process: a neighbour holding the core lengthens wall time, not this.
    start = time.process_time()
    run()
    return (time.process_time() - start) * 1000 / max(calls, 1), calls


def draws_per_example(strategy: st.SearchStrategy[JSON], examples: int) -> tuple[float, float]:
    """The mean number of choices and of spans one example of ``strategy`` makes."""
    choices: list[int] = []
    spans: list[int] = []

    @_settings(examples)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        record = data.conjecture_data
        first_choice, first_span = len(record.choices), record.next_span_index
        data.draw(strategy)
        choices.append(len(record.choices) - first_choice)
        spans.append(record.next_span_index - first_span)

    run()
    return statistics.mean(choices), statistics.mean(spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="examples per strategy per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median printed)")
    parser.add_argument("--only", default="", help="measure only strategies whose name contains this")
    options = parser.parse_args()

    strategies = {n: s for n, s in cases().items() if n == BASELINE or options.only in n}
    # An untimed warm-up: character tables and compiled patterns are built on a strategy's first draw.
    for strategy in strategies.values():
        ms_per_example(strategy, 20)
    timings: dict[str, list[float]] = {name: [] for name in strategies}
    ran: dict[str, int] = {}
    for number in range(options.rounds):
        order = list(strategies.items())
        # Alternate the order so that neither end of a round is always the same strategy.
        for name, strategy in order if number % 2 == 0 else reversed(order):
            milliseconds, ran[name] = ms_per_example(strategy, options.examples)
            timings[name].append(milliseconds)
    baseline = statistics.median(timings[BASELINE])
    print(f"{'strategy':<38} {'ms/example':>10} {'ratio':>6} {'choices':>8} {'spans':>7}")
    for name, strategy in strategies.items():
        median = statistics.median(timings[name])
        choices, spans = draws_per_example(strategy, options.examples)
        # A run that ran out of values pays its fixed cost over few examples: its figure is not comparable.
        note = f"  (only {ran[name]} examples exist)" if ran[name] < options.examples else ""
        print(f"{name:<38} {median:>10.3f} {median / baseline:>6.2f} {choices:>8.1f} {spans:>7.1f}{note}")


if __name__ == "__main__":
    main()

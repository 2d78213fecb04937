"""Splitting a refused body: halving finds the classes a target refuses, alone or only together."""

from __future__ import annotations

from collections.abc import Callable

from conformance.rules.creates.classes import Part
from conformance.rules.creates.split import culprits

PARTS = tuple(Part(f"class {n}", "core", text=str(n)) for n in range(12))


Refused = Callable[[tuple[Part, ...]], bool]


def _target(
    refuses: set[str], *, together: frozenset[str] = frozenset()
) -> tuple[list[tuple[Part, ...]], Refused]:
    sent: list[tuple[Part, ...]] = []

    def refused(parts: tuple[Part, ...]) -> bool:
        sent.append(parts)
        labels = {p.label for p in parts}
        return bool(labels & refuses) or (bool(together) and together <= labels)

    return sent, refused


def test_one_refused_class_is_found_in_about_two_sends_per_halving() -> None:
    sent, refused = _target({"class 7"})
    assert culprits(PARTS, refused) == [(PARTS[7],)]
    assert len(sent) <= 2 * 4


def test_every_refused_class_is_found() -> None:
    _, refused = _target({"class 0", "class 5", "class 11"})
    found = culprits(PARTS, refused)
    assert found == [(PARTS[0],), (PARTS[5],), (PARTS[11],)]


def test_classes_refused_only_together_are_returned_as_the_smallest_set_holding_both() -> None:
    _, refused = _target(set(), together=frozenset({"class 2", "class 9"}))
    assert culprits(PARTS, refused) == [PARTS]
    _, refused = _target(set(), together=frozenset({"class 0", "class 1"}))
    assert culprits(PARTS, refused) == [PARTS[0:3]]


def test_a_single_class_needs_no_send() -> None:
    sent, refused = _target({"class 0"})
    assert culprits(PARTS[:1], refused) == [PARTS[:1]]
    assert sent == []

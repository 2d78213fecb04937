"""Delta debugging for a refused valid body: which field, then which class of that field, the target refused.

A combined body carries many classes at once; when the target refuses it, the body is split. First per field:
the field alone (with the body's base). Then, within a field the target refused alone, by halving its classes
until single classes (or sets that only fail together) remain. Each body sent is judged as any create is, so
the halves the target accepts are still checked for echo and the rest.

Example::

    culprits(parts, refused=lambda subset: send(subset).refused)
    # [(Part("beyond the BMP ..."),)]: the one class the target refuses
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from conformance.rules.creates.classes import Part


def culprits(parts: Sequence[Part], refused: Callable[[tuple[Part, ...]], bool]) -> list[tuple[Part, ...]]:
    """The smallest sets of ``parts`` that ``refused`` says are refused, found by halving.

    ``parts`` are known to be refused together. A set neither of whose halves is refused on its own is
    returned whole (its classes fail only together). Calls ``refused`` about twice per class found, times the
    halving depth.
    """
    whole = tuple(parts)
    if len(whole) <= 1:
        return [whole]
    middle = len(whole) // 2
    found: list[tuple[Part, ...]] = []
    for half in (whole[:middle], whole[middle:]):
        if refused(half):
            found += culprits(half, refused)
    return found or [whole]

"""Both contracts, and a modified copy whose limits differ, for the strategies' tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from conformance.contract import Contract, contract_from_document, load_contract


@pytest.fixture(scope="session", params=["huawei", "cinder"])
def contract(request: pytest.FixtureRequest) -> Contract:
    return load_contract(request.param)


def with_limit(contract: Contract, field: str, limit: int) -> Contract:
    """A copy of ``contract`` whose document gives ``field`` a different maximum length."""
    document = copy.deepcopy(dict(contract.document))
    name = contract.semantics["snapshot-object"]
    document["components"]["schemas"][name]["properties"][field]["maxLength"] = limit
    return contract_from_document(document)


def never(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool]) -> None:
    """Assert that ``strategy`` does not produce a value meeting ``condition`` in a bounded search."""
    with pytest.raises(NoSuchExample):
        find(strategy, condition, settings=settings(max_examples=60, database=None))


def with_key_pattern(contract: Contract, pattern: str) -> Contract:
    """A copy of ``contract`` whose metadata keys must match ``pattern``."""
    document = copy.deepcopy(dict(contract.document))
    name = contract.semantics["snapshot-object"]
    metadata = document["components"]["schemas"][name]["properties"]["metadata"]
    metadata["propertyNames"] = {"pattern": pattern}
    return contract_from_document(document)

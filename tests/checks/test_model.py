from __future__ import annotations

from conformance.checks.model import view
from conformance.contract import Contract


def test_the_view_holds_what_the_contract_says_and_is_built_once(huawei: Contract, cinder: Contract) -> None:
    seen = view(huawei)
    assert seen is view(huawei)
    assert seen.summary_key == huawei.summary_key
    assert seen.snapshot_statuses == huawei.snapshot_statuses
    assert seen.time_pattern.pattern == huawei.time_pattern
    assert seen.body_schemas[400] == huawei.response_schema(400)
    assert seen.body_schemas[401] is None
    assert view(cinder).body_schemas[404] == cinder.response_schema(404)

from __future__ import annotations

from conformance.contract import Contract
from conformance.rules.checks import check_no_server_error
from tests.checks.conftest import exchange


def test_only_a_server_error_fails_and_the_rest_is_recorded(huawei: Contract) -> None:
    refused = check_no_server_error(
        exchange(406, b"<p>no</p>", content_type="text/html"), huawei, silence="s"
    )
    assert refused.ok
    assert refused.checked == {"RSP-NO-5XX"}
    assert refused.infos == (("RSP-CONTENT-TYPE", "document silent (s); received 406, text/html"),)
    crashed = check_no_server_error(exchange(500, {"error": {}}), huawei, silence="s")
    assert crashed.failed() == {"RSP-NO-5XX"}
    lost = check_no_server_error(exchange(0, error="ReadTimeout: timed out"), huawei, silence="s")
    assert lost.failed() == {"RSP-NO-5XX"}
    assert "ReadTimeout" in lost.violations[0].received

"""Allure labels for a requirement's tests, and request/response attachments with the token masked.

Labels are pytest marks added once per collected test, so a property test that runs a hundred examples
still carries one epic, one feature, one story and one id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from allure_commons import plugin_manager
from allure_commons.types import AttachmentType, LabelType, LinkType, Severity
from allure_pytest.utils import ALLURE_LABEL_MARK, ALLURE_LINK_MARK

from conformance.contract import Contract
from conformance.exchange import Exchange
from conformance.report.allure_results import EPIC, feature, severity_level

if TYPE_CHECKING:
    from conformance.requirements import Requirement

__all__ = [
    "EPIC",
    "attach_exchange",
    "document_link",
    "feature",
    "render_exchange",
    "requirement_marks",
    "severity",
]

_SEVERITY_ORDER = list(Severity)
_BODY_SHOWN = 16_384


def severity(requirement_id: str) -> Severity:
    """How much a broken requirement matters: the operation and authentication most, advice least."""
    return Severity(severity_level(requirement_id))


def document_link(contract: Contract, source: str) -> str:
    """A link to the document at the table a requirement comes from."""
    external = contract.document.get("externalDocs", {}).get("url")
    page = external or str(contract.document.get("info", {}).get("x-source-document", "document"))
    return f"{page}#{quote(source.split(';')[0].strip())}"


def requirement_marks(
    ids: Sequence[str], contract: Contract, catalogue: Mapping[str, Requirement]
) -> list[pytest.MarkDecorator]:
    """A test's Allure marks: epic, feature, a story per requirement, the first as id, severity, sources."""
    # These are the marks allure-pytest's own decorators produce; it reads them once per test.
    label = getattr(pytest.mark, ALLURE_LABEL_MARK)
    link = getattr(pytest.mark, ALLURE_LINK_MARK)
    gravest = min((severity(i) for i in ids), key=_SEVERITY_ORDER.index)
    marks = [
        label(EPIC, label_type=LabelType.EPIC),
        label(feature(contract), label_type=LabelType.FEATURE),
        *(label(requirement_id, label_type=LabelType.STORY) for requirement_id in ids),
        label(ids[0], label_type=LabelType.ID),
        label(gravest.value, label_type=LabelType.SEVERITY),
    ]
    sources = dict.fromkeys(catalogue[i].source for i in ids if i in catalogue)
    marks += [
        link(document_link(contract, source), name=source, link_type=LinkType.LINK) for source in sources
    ]
    return marks


def render_exchange(exchange: Exchange) -> str:
    """The exchange as text: request line, headers and body, then the response (token already masked)."""
    request = exchange.request
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    if request.body is not None:
        lines += ["", _text(request.body)]
    lines.append("")
    response = exchange.response
    if response is None:
        lines.append(f"-- no response: {exchange.error}")
    else:
        lines.append(f"HTTP {response.status}" + (" (body truncated)" if response.truncated else ""))
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines += ["", _text(response.body)]
    lines += ["", f"-- {exchange.elapsed_s * 1000:.1f} ms", "", "Reproduce:", exchange.curl()]
    return "\n".join(lines)


def attach_exchange(exchange: Exchange, name: str, *, redact: Callable[[str], str] | None = None) -> None:
    """Attach one exchange to the running Allure test (a no-op when Allure is not recording).

    ``redact`` masks secrets the exchange may still hold (a token echoed in a response body).
    """
    body = render_exchange(exchange)
    plugin_manager.hook.attach_data(
        body=redact(body) if redact is not None else body,
        name=name,
        attachment_type=AttachmentType.TEXT,
        extension=None,
    )


def _text(body: bytes) -> str:
    shown = body[:_BODY_SHOWN].decode("utf-8", errors="backslashreplace")
    return shown + (f"\n… ({len(body)} bytes)" if len(body) > _BODY_SHOWN else "")

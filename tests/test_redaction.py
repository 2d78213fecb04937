"""Masking secrets: every encoding, any mix and alignment, short secrets only as whole values."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.redaction import (
    MIN_SECRET_LENGTH,
    Masker,
    base64_fragments,
    holds_secret,
    redact,
    redact_bytes,
)
from conformance.run.auth import redact as redact_from_auth
from tests.secret_forms import base64_in_stream, encodings, json_u, leaks, percent

MASK = "<MASKED>"
#: Characters that make encodings differ from the raw form, and a few from other scripts.
SPECIAL = [*"/+%\"'\\&<> =:?#", "é", "ß", "Ω", "€", "中", "😀", "\u00a0"]
secrets = st.lists(
    st.one_of(
        st.sampled_from(SPECIAL),
        st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="<>MASKED"),
    ),
    min_size=MIN_SECRET_LENGTH,
    max_size=40,
).map("".join)
# Text around the secret: nothing that is itself an encoding, so what is found afterwards is a leak.
filler = st.text(alphabet=st.sampled_from(list("qjx .,;:()[]{}|!?-_\n")), max_size=30)
# Each new secret compiles its patterns once; the first examples pay for that.
relaxed = settings(deadline=None)
users = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=12)


def assert_masked(text: str, secret: str) -> str:
    masked = redact(text, [secret], mask=MASK)
    assert MASK in masked
    assert not leaks(masked, secret), (text, masked)
    return masked


@relaxed
@given(secrets, filler, filler)
def test_the_raw_form_is_masked(secret: str, before: str, after: str) -> None:
    assert assert_masked(before + secret + after, secret) == before + MASK + after


@relaxed
@given(secrets, filler, filler, st.data())
def test_json_escapes_mixed_with_raw_characters_are_masked(
    secret: str, before: str, after: str, data: st.DataObject
) -> None:
    def spell(char: str) -> str:
        choices = [char, json_u(char), json_u(char, upper=True)]
        if char == "/":
            choices.append("\\/")
        if char in '"\\':
            choices.append("\\" + char)
        return data.draw(st.sampled_from(choices))

    assert_masked(before + "".join(spell(c) for c in secret) + after, secret)


@relaxed
@given(secrets, filler, filler, st.data())
def test_percent_encoding_of_any_subset_in_either_case_is_masked(
    secret: str, before: str, after: str, data: st.DataObject
) -> None:
    def spell(char: str) -> str:
        return data.draw(st.sampled_from([char, percent(char), percent(char, upper=False)]))

    assert_masked(before + "".join(spell(c) for c in secret) + after, secret)


@relaxed
@given(secrets, st.binary(max_size=7), st.binary(max_size=7), st.booleans(), st.booleans(), filler)
def test_base64_at_any_alignment_in_a_longer_stream_is_masked(
    secret: str, before: bytes, after: bytes, url: bool, pad: bool, around: str
) -> None:
    encoded = base64_in_stream(secret.encode(), before=before, after=after, url=url, pad=pad)
    masked = assert_masked(f"{around} {encoded} {around}", secret)
    # The whole base64 word goes: no edge character is left to tell a few bits of the secret.
    assert masked == f"{around} {MASK} {around}"


@relaxed
@given(secrets, users, st.booleans(), st.booleans())
def test_a_user_secret_pair_and_a_basic_credential_are_masked(
    secret: str, user: str, url: bool, pad: bool
) -> None:
    pair = base64_in_stream(f"{user}:{secret}".encode(), url=url, pad=pad)
    assert_masked(f'{{"credentials": "{pair}"}}', secret)
    assert assert_masked(f"Authorization: Basic {pair}", secret) == f"Authorization: Basic {MASK}"


@relaxed
@given(secrets, filler)
def test_json_of_json_and_double_percent_encoding_are_masked(secret: str, around: str) -> None:
    twice_json = json.dumps(json.dumps(secret, ensure_ascii=True))
    assert_masked(around + twice_json + around, secret)
    twice_percent = urllib.parse.quote(urllib.parse.quote(secret, safe=""), safe="")
    assert_masked(around + twice_percent + around, secret)


@relaxed
@given(secrets)
def test_bytes_are_masked_and_other_bytes_kept(secret: str) -> None:
    data = b"\xff\xfe head " + secret.encode() + b" " + base64.b64encode(secret.encode()) + b" tail \x80"
    masked = redact_bytes(data, [secret], mask=MASK)
    assert masked == b"\xff\xfe head " + MASK.encode() + b" " + MASK.encode() + b" tail \x80"


@pytest.mark.parametrize("name", sorted(encodings("s3cr€t/+%\"tok'en")))
def test_each_fixed_encoding_is_masked(name: str) -> None:
    secret = "s3cr€t/+%\"tok'en"
    assert_masked(f"before {encodings(secret)[name]} after", secret)


def test_a_short_secret_is_masked_only_as_a_whole_value() -> None:
    # A one-letter test token used to turn "Connection refused" into "Connec***ion refused".
    for short in ("t", "on", "tion"):
        assert redact("Connection refused", [short]) == "Connection refused"
        assert redact(short, [short]) == "***"
        assert redact(f"  {short}\n", [short]) == "  ***\n"
    assert redact("Basic " + base64.b64encode(b"qa:pw").decode(), ["pw"]) == "***"
    assert redact("Basic " + base64.b64encode(b"qa:other").decode(), ["pw"]).startswith("Basic ")
    assert redact(urllib.parse.quote("p/w"), ["p/w"]) == "***"


def test_a_base64_word_reaching_back_over_an_earlier_match_is_masked_whole() -> None:
    secret = "Abcdefgh12"
    blob = base64.b64encode(b"pad" + secret.encode()).decode()
    # The raw secret and the base64 word run together: one word, masked as one.
    assert redact(f"[zz{secret}{blob}]", [secret]) == "[***]"


def test_a_secret_holding_another_is_masked_whole() -> None:
    assert redact("abcdefgh-123 and abcdefgh", ["abcdefgh", "abcdefgh-123"], mask="#") == "# and #"


def test_an_excerpt_of_a_long_token_is_masked_as_far_as_it_goes() -> None:
    token = "gAAAAA" + "x7Yq" * 1000
    text = f"token {token[:200]}... (cut) and {token}"
    assert redact(text, [token]) == "token ***... (cut) and ***"


def test_text_without_a_secret_is_returned_as_is() -> None:
    text = "C:\\path\\to %41 &amp; Basic dXNlcjpvdGhlcg== caf\\u00e9"
    assert redact(text, ["s3cret-value"]) is text
    assert redact("", ["s3cret-value"]) == ""
    assert redact("nothing", []) == "nothing"
    assert not holds_secret(text, ["s3cret-value"])
    assert holds_secret("a s3cret-value", ["s3cret-value", ""])


def test_the_fragments_skip_the_characters_that_depend_on_neighbours() -> None:
    fragments = base64_fragments("abcdefgh")
    for before in (b"", b"\x00", b"\xff\xff"):
        for after in (b"", b"\x00", b"\xff"):
            encoded = base64.b64encode(before + b"abcdefgh" + after).decode()
            assert any(fragment in encoded for fragment in fragments)


def test_the_auth_module_still_offers_redact() -> None:
    assert redact_from_auth("token s3cret-value", ["s3cret-value"]) == "token ***"


def test_a_masker_compiles_once_and_is_quick_for_kilobyte_tokens() -> None:
    token = "MIIB" + "q9/Z+" * 2000
    masker = Masker([token])
    assert masker.redact(f"x {urllib.parse.quote(token, safe='')} y") == "x *** y"

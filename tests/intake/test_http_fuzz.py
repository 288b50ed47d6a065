"""Every route under property-based fuzzing, through the Chalice test client, with valid
credentials so the bodies reach the code: raw bytes, wrong shapes, nasty strings and numbers,
odd timestamps, content types and CSV shapes. Whatever arrives: 2xx, or a 4xx whose JSON body
says what is wrong and for which nothing was queued; never a 5xx.

FUZZ_SCALE=N (tests/support/strategies.py) runs N times the examples, at random.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.strategies import FUZZ, SCALE, load_fixture, mutated_many, nasty_values

pytestmark = pytest.mark.integration

EXAMPLES = 120
SEEN: Counter = Counter()  # requests sent and their statuses, for the closing summary


def fuzz_settings() -> settings:
    return settings(
        FUZZ,
        max_examples=EXAMPLES * SCALE,
        suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.function_scoped_fixture],
    )


def bodies(*fixtures: str) -> st.SearchStrategy[bytes]:
    """Raw bytes, any JSON value, or a fixture with a few positions mutated (as JSON text)."""
    documents = st.one_of(*(mutated_many(load_fixture(f)) for f in fixtures)) if fixtures else nasty_values()
    as_json = documents.map(_dumps)
    return st.one_of(st.binary(max_size=300), nasty_values().map(_dumps), as_json, as_json)


def _dumps(value: object) -> bytes:
    """As a client could write it: an integer too long for Python's json module is written by hand."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    except ValueError:  # an int of more than 4,300 digits: the JSON text a client may still send
        return b'{"id": ' + b"9" * 5000 + b"}"
    except RecursionError:
        return b"[" * 5000 + b"]" * 5000


CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8", "Application/JSON"])


def check(connector, answer, depth_before: int) -> None:
    status = answer.status_code
    SEEN[status // 100 * 100] += 1
    assert status < 500, answer.body[:300]
    if status >= 400:
        body = json.loads(answer.body)
        assert isinstance(body.get("error") or body.get("Message"), str)  # the connector's, or chalice's 415
        assert connector.services.queue.depth() == depth_before  # nothing queued for what was refused


@settings(fuzz_settings())
@given(raw=bodies("credly/webhook_badge_created.json"), content_type=CONTENT_TYPES)
def test_credly_webhook(connector, raw, content_type):
    depth = connector.services.queue.depth()
    answer = connector.post(
        f"/webhooks/credly/{connector.env['CREDLY_WEBHOOK_TOKEN']}", raw, {"Content-Type": content_type}
    )
    check(connector, answer, depth)


@settings(fuzz_settings())
@given(raw=bodies("certifier/webhook_credential_issued.json", "certifier/webhook_credential_viewed_guest.json"))
def test_certifier_webhook(connector, raw):
    depth = connector.services.queue.depth()
    signature = hmac.new(connector.env["CERTIFIER_WEBHOOK_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    answer = connector.post("/webhooks/certifier", raw, {"X-Webhook-Signature": signature})
    check(connector, answer, depth)


@settings(fuzz_settings())
@given(raw=bodies("openbadges/ob2_assertion.json", "openbadges/ob3_credential.json"))
def test_openbadges_ingest(connector, raw):
    depth = connector.services.queue.depth()
    headers = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    check(connector, connector.post("/ingest/openbadges", raw, headers), depth)


@settings(fuzz_settings())
@given(raw=bodies("lap/learninglocker_forwarded_statement.json"))
def test_lap_statements(connector, raw):
    depth = connector.services.queue.depth()
    headers = {"Authorization": f"Bearer {connector.env['LAP_TOKEN']}"}
    check(connector, connector.post("/lap/statements", raw, headers), depth)


CSV_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "1e400", "nan", "-0", "9" * 400, "x" * 140_000, "\ud800", '"', '"a""b"', "\r", "a\rb"]),
)


@st.composite
def csv_reports(draw) -> bytes:
    header = draw(
        st.lists(st.sampled_from(["email", "employee_id", "name", "courses_completed", "score", ""]), max_size=5)
    )
    rows = draw(st.lists(st.lists(CSV_CELLS, max_size=7), max_size=4))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(line) for line in [header, *rows])
    return text.encode("utf-8", "surrogatepass")


@settings(fuzz_settings())
@given(
    json_raw=bodies("lap/report_rows.json"),
    csv_raw=csv_reports(),
    as_csv=st.booleans(),
    report=st.sampled_from(["python-readiness", "", None]),
)
def test_lap_reports(connector, json_raw, csv_raw, as_csv, report):
    depth = connector.services.queue.depth()
    headers = {
        "Authorization": f"Bearer {connector.env['LAP_TOKEN']}",
        "Content-Type": "text/csv" if as_csv else "application/json",
    }
    path = "/lap/reports" + (f"?report={report}" if report is not None else "")
    check(connector, connector.post(path, csv_raw if as_csv else json_raw, headers), depth)


def test_zz_summary(capsys):
    """Not a check: the number of requests the tests above sent, by status class."""
    with capsys.disabled():
        print(f"\nroute fuzz: {sum(SEEN.values())} requests, by status class {dict(sorted(SEEN.items()))}")
    assert SEEN[500] == 0


SHARE_LINK = {
    "credential_url": "https://badges.example.edu/assertions/a-1",
    "channel": "linkedin",
    "platform": "openbadges",
    "name": "Fuzzed badge",
    "badge_class": "https://badges.example.edu/classes/c-1",
    "learner": {"email": "ada.lovelace@example.com"},
}


@settings(fuzz_settings())
@given(raw=st.one_of(st.binary(max_size=300), nasty_values().map(_dumps), mutated_many(SHARE_LINK).map(_dumps)))
def test_share_links(connector, raw):
    depth = connector.services.queue.depth()
    headers = {"Authorization": f"Bearer {connector.env['SHARE_LINKS_TOKEN']}"}
    check(connector, connector.post("/share-links", raw, headers), depth)


@settings(fuzz_settings())
@given(token=st.text(min_size=1, max_size=60), agent=st.one_of(st.none(), st.text(max_size=200)))
def test_share_link_clicks(connector, token, agent):
    from urllib.parse import quote

    depth = connector.services.queue.depth()
    headers = {} if agent is None else {"User-Agent": agent.encode("utf-8", "surrogatepass").decode("latin-1")}
    answer = connector.client.http.get("/s/" + quote(token.encode("utf-8", "surrogatepass"), safe=""), headers=headers)
    check(connector, answer, depth)
    assert answer.status_code == 404  # no token a fuzzer writes was signed

"""Certifier's pull: the resume cursor (phase and cursors), the walk over credentials and their
interactions against the fake API, and the adapter reading the list pages like the webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.errors import ConnectorError, InputError, PlatformRefused
from chalicelib.httpretry import RetryPolicy, TransientFailure
from chalicelib.platforms import puller
from chalicelib.platforms.certifier.api import CertifierAuthError, CertifierClient, next_cursor
from chalicelib.platforms.certifier.pull import EMPTY_PAGE, CertifierPuller, Listing, Position
from chalicelib.platforms.pulling import Page
from chalicelib.settings import load_settings
from fakes.certifier_api import FakeCertifier
from tests.support.helpers import VERB_EARNED, VERB_EXPIRED, fixture, statement_id, translate, verbs

TOKEN = "cert-pull-token"
GROUP = "01JC0GROUPPULL00000000001"


def credential(n: int, status: str = "issued", issued: str = "2026-03-01", **extra: object) -> dict:
    """A credential as GET /credentials lists it: groupId only, no group name."""
    return {
        "id": f"01CRED{n:020d}",
        "publicId": f"00000000-0000-4000-8000-{n:012d}",
        "groupId": GROUP,
        "status": status,
        "recipient": {"id": f"01RCPT{n:020d}", "name": f"Learner {n}", "email": f"learner{n}@example.com"},
        "issueDate": issued,
        "expiryDate": None,
        "attributes": {"recipient.name": f"Learner {n}"},
        "customAttributes": {},
        "createdAt": f"{issued}T08:00:00.000Z",
        "updatedAt": f"{issued}T08:00:00.000Z",
        **extra,
    }


def interaction(n: int, credential_id: str, event: str = "credential_viewed", by: str = "recipient") -> dict:
    return {
        "id": f"01INTR{n:020d}",
        "credentialId": credential_id,
        "eventType": event,
        "triggeredBy": by,
        "triggeredAt": f"2026-04-{1 + n % 28:02d}T10:00:00.000Z",
    }


@pytest.fixture
def fake():
    with FakeCertifier(TOKEN, page_size=2) as certifier:
        certifier.add_group({"id": GROUP, "name": "Pull Practitioner"})
        yield certifier


def client(fake: FakeCertifier) -> CertifierClient:
    return CertifierClient(fake.base_url, TOKEN, retry=RetryPolicy(attempts=2, base=0, cap=0), sleep=lambda _: None)


def walk(fake: FakeCertifier, resume: str | None = None, since: datetime | None = None) -> list[Page]:
    return list(CertifierPuller(client(fake)).pages("backfill", resume, since))


def history(fake: FakeCertifier) -> list[dict]:
    """Five credentials over three pages of two: a draft, a scheduled one, an expired one; three
    interactions of the second (two pages of them), one of the fifth, none of the others."""
    credentials = [
        credential(0),
        credential(1),
        credential(2, "draft"),
        credential(3, "scheduled"),
        credential(4, "expired", expiryDate="2026-05-01"),
    ]
    for c in credentials:
        fake.add_credential(c)
    for n in range(3):
        fake.add_interaction(interaction(n, credentials[1]["id"], by="guest" if n else "recipient"))
    fake.add_interaction(interaction(3, credentials[4]["id"], "credential_shared_to_linkedin"))
    fake.add_interaction(interaction(4, credentials[2]["id"]))  # a draft's: never read
    return credentials


def shape(page: Page) -> tuple:
    """(what the page lists, the ids in it)."""
    if "credential" in page.document:
        return ("interactions", page.document["credential"]["id"], [i["id"] for i in page.document["data"]])
    return ("credentials", [c["id"] for c in page.document["data"]])


def list_targets(fake: FakeCertifier, path: str) -> list[str]:
    return [target for method, target in fake.targets if method == "GET" and target.startswith(path)]


# -- the cursor --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "position",
    [
        Position(),
        Position(page="abc"),
        Position("interactions", None, "01CRED", 0, None),
        Position("interactions", "pg2", "01CRED", 3, "ic1"),
    ],
    ids=["start", "credentials", "first-interactions", "later-interactions"],
)
def test_a_position_survives_its_encoding(position):
    text = position.encode()
    assert Position.decode(text) == position
    assert json.loads(text)["v"] == 1 and json.loads(text)["phase"] == position.phase


def test_no_cursor_is_the_beginning():
    assert Position.decode(None) == Position("credentials", None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"phase":"credentials","page":null}',  # no version
        '{"v":2,"phase":"credentials","page":null}',
        '{"v":1,"phase":"badges","page":null}',
        '{"v":1,"phase":"credentials","page":7}',
        '{"v":1,"phase":"interactions","page":null}',
        '{"v":1,"phase":"interactions","page":null,"credential":"C","index":-1,"cursor":null}',
        '{"v":1,"phase":"interactions","page":null,"credential":"C","index":true,"cursor":null}',
        '{"v":1,"phase":"interactions","page":null,"credential":"C","index":"0","cursor":null}',
        '{"v":1,"phase":"interactions","page":null,"credential":null,"index":0,"cursor":null}',
        '{"v":1,"phase":"interactions","page":null,"credential":"C","index":0,"cursor":5}',
        "https://api.certifier.io/v1/credentials?cursor=x",  # another platform's kind of cursor
    ],
)
def test_an_unreadable_cursor_starts_the_walk_again(text):
    assert Position.decode(text) == Position()


def test_after_a_credential_come_the_next_ones_interactions_then_the_next_page_then_the_end():
    listing = Listing("pg1", {"data": []}, ({"id": "A"}, {"id": "B"}), "pg2")
    assert listing.after(-1) == Position("interactions", "pg1", "A", 0)
    assert listing.after(0) == Position("interactions", "pg1", "B", 1)
    assert listing.after(1) == Position("credentials", "pg2")
    assert Listing("pg9", {"data": []}, ({"id": "A"},), None).after(0) is None
    assert Listing(None, {"data": []}, (), None).after(-1) is None


def test_a_page_read_again_is_searched_for_the_credential_by_id_and_else_read_from_its_start():
    listing = Listing("pg1", {"data": []}, ({"id": "A"}, {"id": "B"}, {"id": "C"}), "pg2")
    here = Position("interactions", "pg1", "B", 1, "ic")
    assert listing.locate(here) == here
    moved = Position("interactions", "pg1", "C", 1, "ic")
    assert listing.locate(moved) == Position("interactions", "pg1", "C", 2, "ic")
    gone = Position("interactions", "pg1", "Z", 1, "ic")
    assert listing.locate(gone) == Position("interactions", "pg1", "A", 0, None)  # again: harmless
    assert Listing("pg1", {"data": []}, (), "pg2").locate(gone) == Position("credentials", "pg2")


# -- the walk ----------------------------------------------------------------------------------


def test_a_walk_reads_each_credentials_page_then_the_interactions_of_its_issued_credentials(fake):
    c = history(fake)
    pages = walk(fake)

    assert [shape(p) for p in pages] == [
        ("credentials", [c[0]["id"], c[1]["id"]]),
        ("interactions", c[1]["id"], ["01INTR" + "0" * 20, "01INTR" + "0" * 19 + "1"]),
        ("interactions", c[1]["id"], ["01INTR" + "0" * 19 + "2"]),
        ("credentials", [c[2]["id"], c[3]["id"]]),  # a draft and a scheduled one: no interactions read
        ("credentials", [c[4]["id"]]),
        ("interactions", c[4]["id"], ["01INTR" + "0" * 19 + "3"]),
    ]
    assert [p.last for p in pages] == [False] * 5 + [True]
    assert pages[-1].resume is None  # done: the next run starts over
    assert [p.records for p in pages] == [2, 2, 1, 2, 1, 1]
    # the first credential has no interactions: read, nothing queued for it
    reads = list_targets(fake, "/v1/credential-interactions")
    assert sum(f"credentialId={c[0]['id']}" in t for t in reads) == 1
    assert not any(c[2]["id"] in t or c[3]["id"] in t for t in reads)


def test_listed_credentials_carry_their_group_read_once_per_run(fake):
    history(fake)
    pages = walk(fake)
    listed = [x for p in pages if "credential" not in p.document for x in p.document["data"]]
    assert {x["group"]["name"] for x in listed if x["status"] in ("issued", "expired")} == {"Pull Practitioner"}
    assert all("group" not in x for x in listed if x["status"] in ("draft", "scheduled"))
    assert list_targets(fake, "/v1/groups/") == [f"/v1/groups/{GROUP}"]


def test_a_credential_that_carries_its_group_is_not_looked_up(fake):
    fake.add_credential(credential(0, group={"id": GROUP, "name": "Named already"}))
    (page, _) = walk(fake)
    assert page.document["data"][0]["group"]["name"] == "Named already"
    assert list_targets(fake, "/v1/groups/") == []


def test_a_group_certifier_does_not_have_leaves_the_adapter_to_name_what_is_missing(fake):
    fake.groups = {"01SOMEOTHERGROUP"}
    fake.group_details.clear()
    fake.add_credential(credential(0))
    page = walk(fake)[0]
    with pytest.raises(InputError) as caught:
        translate("certifier", page.document)
    assert caught.value.field == "data[0].group.name"


def test_an_empty_history_is_one_empty_last_page(fake):
    (page,) = walk(fake)
    assert (page.records, page.last, page.resume) == (0, True, None)
    assert translate("certifier", page.document).statements == []


def test_when_the_last_credential_has_no_interactions_an_empty_page_marks_the_end(fake):
    fake.add_credential(credential(0))
    pages = walk(fake)
    assert [shape(p)[0] for p in pages] == ["credentials", "credentials"]
    assert pages[-1].document == EMPTY_PAGE and pages[-1].last and pages[-1].resume is None


def test_resuming_after_any_page_yields_exactly_the_pages_that_followed_it(fake):
    history(fake)
    full = walk(fake)
    for k, page in enumerate(full[:-1]):
        rest = walk(fake, page.resume)
        assert [p.document for p in rest] == [p.document for p in full[k + 1 :]], k
        assert [p.resume for p in rest] == [p.resume for p in full[k + 1 :]], k


def test_resuming_in_the_interactions_phase_reads_only_the_current_credentials_page_again(fake):
    c = history(fake)
    full = walk(fake)
    resume = full[4].resume  # the third credentials page is queued; the fifth credential's interactions next
    assert Position.decode(resume).phase == "interactions"
    fake.targets.clear()

    rest = walk(fake, resume)

    assert [shape(p) for p in rest] == [shape(full[5])]
    third_page = Position.decode(resume).page
    assert list_targets(fake, "/v1/credentials") == [f"/v1/credentials?cursor={third_page}&limit=100"]
    assert list_targets(fake, "/v1/credential-interactions") == [
        f"/v1/credential-interactions?credentialId={c[4]['id']}&limit=100"
    ]


def test_a_cursor_names_ids_and_certifiers_cursors_never_a_learner(fake):
    history(fake)
    for page in walk(fake)[:-1]:
        assert "@" not in page.resume and "Learner" not in page.resume


def test_since_leaves_out_credentials_issued_before_it_and_their_interactions(fake):
    c = history(fake)
    fake.credentials[c[1]["id"]]["issueDate"] = "2025-12-31"  # the one with three interactions
    pages = walk(fake, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert c[1]["id"] not in [x["id"] for p in pages for x in p.document["data"]]
    assert not any(c[1]["id"] in t for t in list_targets(fake, "/v1/credential-interactions"))
    assert [shape(p)[0] for p in pages] == ["credentials", "credentials", "credentials", "interactions"]


def test_a_failing_page_raises_after_the_pages_before_it(fake):
    history(fake)
    source = CertifierPuller(client(fake)).pages("backfill", None)
    first = next(source)
    fake.fail_next(503, times=2, path="/credential-interactions")
    with pytest.raises(TransientFailure):
        next(source)
    assert Position.decode(first.resume) == Position("interactions", None, first.document["data"][0]["id"], 0)


def test_the_registry_builds_the_puller_with_the_settings_client(fake):
    settings = load_settings({"CERTIFIER_TOKEN": TOKEN, "CERTIFIER_API_BASE": fake.base_url})
    for mode in ("backfill", "sync"):
        built = puller("certifier", settings, mode)
        assert isinstance(built, CertifierPuller) and built.client.base == fake.base_url


# -- the client --------------------------------------------------------------------------------


def test_list_requests_send_the_token_and_the_version(fake):
    client(fake).credential_page(None)
    (received,) = fake.received
    assert received.headers["Authorization"] == f"Bearer {TOKEN}" and received.headers["Certifier-Version"]


def test_a_truncated_list_answer_is_an_error_not_an_empty_page(fake):
    fake.add_credential(credential(0))
    fake.truncate_next()
    with pytest.raises(ConnectorError, match="not a JSON object"):
        client(fake).credential_page(None)


def test_an_unreadable_cursor_is_refused_with_certifiers_message(fake):
    with pytest.raises(PlatformRefused, match="Invalid cursor"):
        client(fake).credential_page("garbage!")


def test_a_refused_token_is_an_auth_error(fake):
    with pytest.raises(CertifierAuthError):
        CertifierClient(fake.base_url, "wrong").interaction_page("01CRED", None)


def test_a_list_without_a_data_array_is_an_error(fake, monkeypatch):
    monkeypatch.setattr(fake, "_credential_list", lambda query: (200, {}, {"items": []}))
    with pytest.raises(ConnectorError, match="data array"):
        client(fake).credential_page(None)


@pytest.mark.parametrize(
    ("pagination", "expected"),
    [
        ({"prev": None, "next": None}, None),
        ({"next": ""}, None),
        ({"next": "n2"}, "n2"),
        (None, None),
    ],
)
def test_the_next_cursor_is_paginations_next(pagination, expected):
    page = {"data": []} if pagination is None else {"data": [], "pagination": pagination}
    assert next_cursor(page, "n1") == expected


@pytest.mark.parametrize("following", ["n1", 2, {"cursor": "x"}])
def test_a_next_cursor_that_repeats_or_is_not_text_is_refused(following):
    with pytest.raises(ConnectorError):
        next_cursor({"data": [], "pagination": {"next": following}}, "n1")


# -- the adapter reads the list pages like the webhooks ----------------------------------------


def webhook_credential() -> dict:
    return fixture("certifier/webhook_credential_issued.json")["data"]["credential"]


def test_a_listed_credential_gives_the_statements_of_its_issued_webhook():
    webhook = translate("certifier", fixture("certifier/webhook_credential_issued.json")).statements
    listed = translate("certifier", {"data": [webhook_credential()], "pagination": {"next": None}}).statements
    assert listed == webhook
    assert listed[0]["id"] == statement_id("certifier|01JD8Q1A2B3C4D5E6F7G8H9J0K|issued")


def test_a_listed_interaction_gives_the_statement_of_its_webhook():
    body = fixture("certifier/webhook_credential_shared_linkedin.json")
    webhook = translate("certifier", body).statements
    item = {**body["data"]["credentialInteraction"], "credentialId": body["data"]["credential"]["id"]}
    page = {"data": [item], "pagination": {"prev": None, "next": None}, "credential": body["data"]["credential"]}
    listed = translate("certifier", page).statements
    assert listed == webhook
    assert listed[0]["id"] == statement_id("certifier|ci_01JD9A0S1H2A3R4E5D6L7N8K9D")


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_credentials_not_issued_yet_are_skipped_by_rule_even_without_a_recipient(status):
    item = {**webhook_credential(), "status": status, "recipient": None}
    translation = translate("certifier", {"data": [item]})
    assert translation.statements == [] and [s.rule for s in translation.skipped] == [f"{status} credential"]


def test_an_expired_credential_is_earned_then_expired():
    item = {**webhook_credential(), "status": "expired", "expiryDate": "2026-11-25"}
    statements = translate("certifier", {"data": [item]}).statements
    assert verbs(statements) == [VERB_EARNED, VERB_EXPIRED]


def test_an_unknown_status_is_an_error_naming_the_item():
    items = [webhook_credential(), {**webhook_credential(), "status": "archived"}]
    with pytest.raises(InputError) as caught:
        translate("certifier", {"data": items})
    assert caught.value.field == "data[1].status"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.pop("issueDate"), "data[0].issueDate"),
        (lambda c: c.update(issueDate="soon"), "data[0].issueDate"),
        (lambda c: c.pop("group") and c.pop("name", None), "data[0].group.name"),
        (lambda c: c.update(recipient={"name": "No Email"}, customAttributes={}), "data[0].recipient.email"),
    ],
)
def test_errors_name_the_list_item_not_the_webhook_path(change, field):
    item = webhook_credential()
    change(item)
    with pytest.raises(InputError) as caught:
        translate("certifier", {"data": [item]})
    assert caught.value.field == field


def test_errors_in_an_interactions_page_name_the_item_or_its_credential():
    credential_ = webhook_credential()
    bad_time = {
        "id": "ci_1",
        "credentialId": credential_["id"],
        "eventType": "credential_viewed",
        "triggeredBy": "guest",
        "triggeredAt": "whenever",
    }
    with pytest.raises(InputError) as caught:
        translate("certifier", {"data": [bad_time], "credential": credential_})
    assert caught.value.field == "data[0].triggeredAt"
    nameless = {k: v for k, v in credential_.items() if k != "group"}
    good = {**bad_time, "triggeredAt": "2026-11-23T07:45:11.000Z"}
    with pytest.raises(InputError) as caught:
        translate("certifier", {"data": [good], "credential": nameless})
    assert caught.value.field == "credential.group.name"
    with pytest.raises(InputError) as caught:
        translate("certifier", {"data": [{**good, "eventType": "credential_teleported"}], "credential": credential_})
    assert caught.value.field == "data[0].eventType"


def test_an_interaction_of_another_credential_is_refused():
    credential_ = webhook_credential()
    item = {
        "id": "ci_1",
        "credentialId": "01SOMEONEELSE",
        "eventType": "credential_viewed",
        "triggeredBy": "guest",
        "triggeredAt": "2026-11-23T07:45:11.000Z",
    }
    with pytest.raises(InputError) as caught:
        translate("certifier", {"data": [item], "credential": credential_})
    assert caught.value.field == "data[0].credentialId"

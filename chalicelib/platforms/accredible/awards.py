"""Awarding on Accredible: create a credential in a group.

Accredible sends no webhooks, so the created credential is also the issued event (the award's
issued_document).
"""

from __future__ import annotations

from datetime import datetime

from ...timeutil import utc
from ..awarding import AwardResult, Recipient, rejections
from .api import AccredibleClient


def credential_id(value: str) -> str:
    """A rules file's Accredible credential: a group id, a number."""
    if not value.isdigit():
        raise ValueError(f"an Accredible group id is a number: {value!r}")
    return value


class AccredibleAwards:
    platform = "accredible"

    def __init__(self, client: AccredibleClient) -> None:
        self.client = client

    def award(
        self,
        credential_id: str,
        recipient: Recipient,
        issued_at: datetime,
        evidence_url: str | None = None,
        credential_name: str | None = None,
    ) -> AwardResult:
        # No duplicate check: Accredible would create a second credential; the ledger prevents it.
        with rejections():
            body = accredible_credential(credential_id, recipient, issued_at, evidence_url)
            created = self.client.create_credential(body)
        return AwardResult(
            vendor_id=str(created["id"]), already_awarded=False, response=created, issued_document=created
        )


def accredible_credential(group_id: str, recipient: Recipient, issued_at: datetime, evidence_url: str | None) -> dict:
    person: dict = {"name": recipient.name, "email": recipient.email}
    if recipient.earner_id:
        # Not recipient.id: in Accredible's answers that is the platform's own numeric recipient
        # id. meta_data.employee_id is where the Accredible adapter reads the learner id back.
        person["meta_data"] = {"employee_id": recipient.earner_id}
    credential: dict = {
        "recipient": person,
        "group_id": int(group_id) if group_id.isdigit() else group_id,  # numeric ids are sent as numbers
        "issued_on": utc(issued_at).date().isoformat(),
    }
    if evidence_url:
        credential["evidence_items"] = [{"description": "Evidence", "category": "url", "url": evidence_url}]
    return credential


AWARDS = AccredibleAwards  # what the registry loads

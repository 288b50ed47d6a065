"""Credly's badge export (Organization > Data > Badges: CSV), one row per issued badge.

Columns are matched by header name, case and spaces ignored, in any order; columns not listed
here are ignored. Each row becomes the badge object the list API returns (`CredlyAdapter.parse_badge`
reads it), so a badge imported from the export has the statement ids of the same badge pulled or
webhooked: credly|<Earner Badge ID>|issued, and |accepted, |rejected or |revoked for its status.

Assumptions (Credly documents the export's columns only in part):
- "Earner Badge ID" is the badge's id (the API's `id`): it keys the statement ids.
- "Status" holds the badge state as the API spells it (pending, accepted, rejected, revoked,
  replaced; any case). "Expired" is a flag: expiry is judged from the expiry date column where
  the export has one (Credly's "Expiration Date"), as the API path does.
- The export carries no template URL: the activity id is Credly's badge class IRI of the
  "Badge Template ID", where a pull uses the template's public URL when it has one. Same
  statement id, so the LRS keeps whichever arrived first (and answers 409 to the other).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exports import checked, export_time, present
from ..spec import ExportColumn, ExportLayout

if TYPE_CHECKING:
    from ...settings import Settings

COLUMNS = (
    ExportColumn("Earner Badge ID", "id", aliases=("Badge ID",), required=True),
    ExportColumn("Badge Template ID", "badge_template.id", aliases=("Template ID",), required=True),
    ExportColumn("Badge Name", "badge_template.name", aliases=("Badge Template Name",), required=True),
    ExportColumn("Issue Date", "issued_at", aliases=("Issued At", "Issued Date"), required=True),
    ExportColumn("Status", "state", aliases=("State", "Badge Status")),
    ExportColumn("Issued to Email", "recipient_email", aliases=("Recipient Email", "Email")),
    ExportColumn("Issuer Earner ID", "issuer_earner_id", aliases=("Earner ID", "Employee ID")),
    ExportColumn("Issued to First Name", "issued_to_first_name", aliases=("First Name",)),
    ExportColumn("Issued to Middle Name", "issued_to", aliases=("Middle Name",)),
    ExportColumn("Issued to Last Name", "issued_to_last_name", aliases=("Last Name",)),
    ExportColumn("Expiration Date", "expires_at", aliases=("Expires At", "Expiry Date", "Expires On")),
    ExportColumn("Badge URL", "badge_url", aliases=("Badge Url", "Public URL")),
    ExportColumn("Issued by", "issuer", aliases=("Issuer", "Issuer Name")),
    ExportColumn("Revocation Reason", "revocation_reason", aliases=("Revoke Reason",)),
    ExportColumn("State Updated At", "state_updated_at", aliases=("Status Updated At", "Accepted At")),
)


IDENTIFIERS = ("Earner Badge ID", "Badge Template ID", "Issued to Email", "Issuer Earner ID", "Badge URL")


def badge(cells: dict[str, str]) -> dict:
    """A row as the badge object the API lists (only the fields the adapter reads)."""
    checked(cells, COLUMNS, IDENTIFIERS, iris=("Badge URL",))
    names = [cells.get(key) for key in ("Issued to First Name", "Issued to Middle Name", "Issued to Last Name")]
    document = present(
        {
            "id": cells.get("Earner Badge ID"),
            "state": (cells.get("Status") or "pending").lower(),
            "issued_at": export_time(cells.get("Issue Date")),
            "expires_at": export_time(cells.get("Expiration Date")),
            "state_updated_at": export_time(cells.get("State Updated At")),
            "issued_to": " ".join(n for n in names if n) or None,
            "issued_to_first_name": cells.get("Issued to First Name"),
            "issued_to_last_name": cells.get("Issued to Last Name"),
            "recipient_email": cells.get("Issued to Email"),
            "issuer_earner_id": cells.get("Issuer Earner ID"),
            "badge_url": cells.get("Badge URL"),
            "revocation_reason": cells.get("Revocation Reason"),
            "badge_template": present({"id": cells.get("Badge Template ID"), "name": cells.get("Badge Name")}),
        }
    )
    if cells.get("Issued by"):
        document["issuer"] = {"entities": [{"primary": True, "entity": {"name": cells["Issued by"]}}]}
    return document


LAYOUT = ExportLayout("Credly badge export", COLUMNS, badge)


def EXPORT(settings: Settings) -> ExportLayout:  # noqa: N802 - the registry's fixed part name
    return LAYOUT

"""Canvas Credentials / Badgr: a CSV of awarded badges (assertions), one row each.

Canvas Credentials documents neither the columns of its award export (Data Management tab) nor
an export of assertion ids; its bulk-award import uses Badge Class ID, Identifier, First Name,
Last Name, Issue Date, Expiration Date. This layout is those columns plus the one the statement
ids need: **Assertion ID**, the assertion's entity id (the API's `entityId`, the last part of its
public URL https://api.badgr.io/public/assertions/<id>). With it, an assertion imported from CSV
has the statement ids of the same assertion pulled: badgr|<Assertion ID>|issued. A file without
that column is refused (a bulk-award file alone cannot be matched to what a later pull sends);
such a file can still be imported with --mapping, under statement ids of its own.

Each row becomes the assertion the API returns, with its badge class embedded, as
BadgrAdapter reads it. Without a Badge Class URL / Assertion URL column, both are made from
BADGR_API_BASE (/public/badges/<Badge Class ID>, /public/assertions/<Assertion ID>), as the
API's openBadgeId fields are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exports import checked, export_time, flag, present
from ..spec import ExportColumn, ExportLayout

if TYPE_CHECKING:
    from ...settings import Settings

COLUMNS = (
    ExportColumn("Assertion ID", "entityId", aliases=("Assertion Entity ID", "Award ID", "Entity ID"), required=True),
    ExportColumn("Badge Class ID", "badgeclass.entityId", aliases=("BadgeClass ID",), required=True),
    ExportColumn(
        "Badge Class Name", "badgeclass.name", aliases=("Badge Name", "BadgeClass Name", "Badge"), required=True
    ),
    ExportColumn(
        "Identifier", "recipient.plaintextIdentity", aliases=("Recipient Email", "Email", "Recipient"), required=True
    ),
    ExportColumn("Issue Date", "issuedOn", aliases=("Issued On", "Date Issued", "Award Date")),
    ExportColumn("Expiration Date", "expires", aliases=("Expires", "Expiry Date")),
    ExportColumn("Assertion URL", "openBadgeId", aliases=("Open Badge ID", "Badge URL")),
    ExportColumn("Badge Class URL", "badgeclassOpenBadgeId", aliases=("Badge Class Open Badge ID",)),
    ExportColumn("Revoked", "revoked"),
    ExportColumn("Revocation Reason", "revocationReason"),
    ExportColumn("Acceptance", "acceptance", aliases=("Accepted",)),
)


IDENTIFIERS = ("Assertion ID", "Badge Class ID", "Identifier", "Assertion URL", "Badge Class URL")


def layout(api_base: str) -> ExportLayout:
    public = api_base.rstrip("/") + "/public"

    def assertion(cells: dict[str, str]) -> dict:
        checked(cells, COLUMNS, IDENTIFIERS, iris=("Assertion URL", "Badge Class URL"))
        assertion_id, class_id = cells.get("Assertion ID"), cells.get("Badge Class ID")
        state = (cells.get("Acceptance") or "").strip().lower()
        return present(
            {
                "entityId": assertion_id,
                "openBadgeId": cells.get("Assertion URL") or (assertion_id and f"{public}/assertions/{assertion_id}"),
                "badgeclassOpenBadgeId": cells.get("Badge Class URL") or (class_id and f"{public}/badges/{class_id}"),
                "badgeclass": present({"entityId": class_id, "name": cells.get("Badge Class Name")}),
                "recipient": present({"plaintextIdentity": cells.get("Identifier"), "type": "email"}),
                "issuedOn": export_time(cells.get("Issue Date")),
                "expires": export_time(cells.get("Expiration Date")),
                "revoked": flag(cells.get("Revoked")),
                "revocationReason": cells.get("Revocation Reason"),
                "acceptance": (
                    "Accepted" if state == "accepted" or flag(state) else "Rejected" if state == "rejected" else None
                ),
            }
        )

    return ExportLayout("Canvas Credentials award export", COLUMNS, assertion)


def EXPORT(settings: Settings) -> ExportLayout:  # noqa: N802 - the registry's fixed part name
    return layout(settings.badgr_api_base)

"""Accredible's credential export (the dashboard's credentials CSV, or POST /v1/data_exports
{entity: credentials}), one row per credential.

Accredible documents the export's fields, not its header spelling: columns are matched by name,
case and spaces ignored, with the spellings below; others are ignored. Each row becomes the
credential of a v2 search (flat recipient_* fields), as AccredibleAdapter reads it, so a
credential imported from CSV has the statement ids of the same credential pulled:
accredible|<Credential ID>|issued. Accredible has no revoked state: a credential withdrawn by
an expiry in the past reads like any expiry (its expired statement follows).

The credential's name is its Credential Name, else its group's course name or name (the API's
group.course_name wins over the credential's name in the adapter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exports import checked, export_time, present
from ..spec import ExportColumn, ExportLayout

if TYPE_CHECKING:
    from ...settings import Settings

COLUMNS = (
    ExportColumn("Credential ID", "id", aliases=("ID", "Credential Id #"), required=True),
    ExportColumn("Recipient Email", "recipient_email", aliases=("Email", "Recipient E-mail"), required=True),
    ExportColumn("Group ID", "group.id", aliases=("Group Id #",), required=True),
    ExportColumn("Recipient Name", "recipient_name", aliases=("Name",)),
    ExportColumn("Credential Name", "name", aliases=("Course Name",)),
    ExportColumn("Group Name", "group.course_name", aliases=("Group",)),
    ExportColumn("Issued On", "issued_on", aliases=("Issue Date", "Issued Date")),
    ExportColumn("Expires On", "expired_on", aliases=("Expiry Date", "Expired On", "Expiration Date")),
    ExportColumn("Credential URL", "url", aliases=("URL", "Credential Link")),
    ExportColumn("Description", "description"),
    ExportColumn("Employee ID", "recipient_meta_data.employee_id", aliases=("Recipient Employee ID",)),
)


IDENTIFIERS = ("Credential ID", "Recipient Email", "Group ID", "Credential URL", "Employee ID")


def credential(cells: dict[str, str]) -> dict:
    """A row as a v2 search credential (only the fields the adapter reads)."""
    checked(cells, COLUMNS, IDENTIFIERS, iris=("Credential URL",))
    employee = cells.get("Employee ID")
    name = cells.get("Credential Name") or cells.get("Group Name")
    return present(
        {
            "id": cells.get("Credential ID"),
            "name": name,
            "description": cells.get("Description"),
            "issued_on": export_time(cells.get("Issued On")),
            "expired_on": export_time(cells.get("Expires On")),
            "url": cells.get("Credential URL"),
            "group_id": cells.get("Group ID"),
            "recipient_name": cells.get("Recipient Name"),
            "recipient_email": cells.get("Recipient Email"),
            "recipient_meta_data": {"employee_id": employee} if employee else {},
        }
    )


LAYOUT = ExportLayout("Accredible credential export", COLUMNS, credential)


def EXPORT(settings: Settings) -> ExportLayout:  # noqa: N802 - the registry's fixed part name
    return LAYOUT

"""Fresh values for every secret a route checks: each test connector its own."""

from __future__ import annotations

import uuid


def route_secrets() -> dict[str, str]:
    return {
        "CREDLY_WEBHOOK_TOKEN": "path-" + uuid.uuid4().hex,
        "CERTIFIER_WEBHOOK_SECRET": "whsec-" + uuid.uuid4().hex,
        "OPENBADGES_INGEST_TOKEN": "ob-" + uuid.uuid4().hex,
        "LAP_TOKEN": "lap-" + uuid.uuid4().hex,
        "SHARE_LINKS_TOKEN": "share-" + uuid.uuid4().hex,
        "SHARE_LINK_SECRET": "sign-" + uuid.uuid4().hex,
        "STATUS_TOKEN": "status-" + uuid.uuid4().hex,
    }

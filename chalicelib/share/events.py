"""The shared and viewed events of a tracked link: canonical events the workers translate as any other.

Statement ids (xapi/statements.py) come from the interaction id: the link id for the share, so the
link's one shared statement is stored once however often it is queued; (link, client, window) for
a view, so the clicks of one client within one window are one statement even when they race. The
view's time is the start of its window for the same reason (two racing clicks give identical
statements, which the LRS stores once), or the share's time in the window the link was made, so
that no view is dated before its share.
"""

from __future__ import annotations

from datetime import datetime

from ..events import CredentialEvent, Interaction, Kind

# The channel a caller names -> the share medium word of the statements (as Certifier's shares
# give them: twitter for X, link for a copied link), so reports join shares from every source.
MEDIUM = {"linkedin": "linkedin", "facebook": "facebook", "x": "twitter", "email": "email", "copy": "link"}


def shared_event(credential: CredentialEvent, link_id: str, channel: str, created_at: datetime) -> CredentialEvent:
    interaction = Interaction(id=link_id, channel=MEDIUM[channel])
    return credential.model_copy(update={"kind": Kind.SHARED, "occurred_at": created_at, "interaction": interaction})


def viewed_event(shared: CredentialEvent, view_id: str, window_start: datetime, viewer_home: str) -> CredentialEvent:
    """view_id: clicks.view_id (the interaction id); viewer_home: the guest account's homePage."""
    channel = shared.interaction.channel if shared.interaction else "link"
    interaction = Interaction(id=view_id, channel=channel, by_guest=True, platform_home=viewer_home)
    at = max(window_start, shared.occurred_at) if shared.occurred_at else window_start
    return shared.model_copy(update={"kind": Kind.VIEWED, "occurred_at": at, "interaction": interaction})

"""Every IRI the connector writes, in one place."""

from __future__ import annotations

from ..events import Kind

OPEN_BADGES_RECIPE = "http://specification.openbadges.org/xapi/recipe/base/0_0_2"
RECIPE_ACTIVITY_TYPE = "http://id.tincanapi.com/activitytype/recipe"
BADGE_ACTIVITY_TYPE = "http://activitystrea.ms/schema/1.0/badge"
BADGECLASS_EXTENSION = "http://specification.openbadges.org/xapi/extensions/badgeclass"
BADGEASSERTION_EXTENSION = "http://specification.openbadges.org/xapi/extensions/badgeassertion"
SHARE_MEDIUM_EXTENSION = "http://id.tincanapi.com/extension/share-medium"

VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"

# kind -> (verb id, display); revoked is built under the deployment's own base (see below).
VERBS: dict[Kind, tuple[str, str]] = {
    Kind.ISSUED: ("http://specification.openbadges.org/xapi/verbs/earned", "earned"),
    Kind.ACCEPTED: ("http://activitystrea.ms/accept", "accepted"),
    Kind.REJECTED: ("http://activitystrea.ms/reject", "rejected"),
    Kind.EXPIRED: ("http://id.tincanapi.com/verb/expired", "expired"),
    Kind.SHARED: ("http://adlnet.gov/expapi/verbs/shared", "shared"),
    Kind.VIEWED: ("http://id.tincanapi.com/verb/viewed", "viewed"),
}

# Learning done elsewhere (LMS, LXP, classroom) that the report relates to the credentials
# earned after it: not the connector's own verbs.
# An Agent's inverse functional identifiers: exactly one identifies it.
IFI_KEYS: tuple[str, ...] = ("mbox", "mbox_sha1sum", "openid", "account")
ACTIVITY_VERBS: tuple[str, ...] = (
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/mastered",
    "http://adlnet.gov/expapi/verbs/attended",
)

CONNECTOR_ACCOUNT_NAME = "credential-connector"
GUEST_ACCOUNT_NAME = "guest"


class DeploymentVocabulary:
    """IRIs under the deployment's own extension base (setting XAPI_EXTENSION_BASE)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.verb_revoked = f"{self.base}/verbs/revoked"
        self.ext_skills = f"{self.base}/extensions/skills"
        # The canonical skills of SKILLS_FILE: [{"name", "framework_id"?, "from": [platform names]}].
        self.ext_skills_canonical = f"{self.base}/extensions/skills_canonical"
        self.ext_issuer = f"{self.base}/extensions/issuer"
        self.ext_expires_at = f"{self.base}/extensions/expires_at"
        self.ext_job_role = f"{self.base}/extensions/job_role"
        self.ext_team = f"{self.base}/extensions/team"
        self.ext_earner = f"{self.base}/extensions/earner"
        # The account a statement came through: {"name": connection name, "organisation": label}.
        self.ext_connection = f"{self.base}/extensions/connection"
        self.agent_type_earner = f"{self.base}/agent-types/earner"

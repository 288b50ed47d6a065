"""CredentialEvent -> xAPI statements: the statement contract (docs: XAPI mapping), pure.

A statement is a function of the logical event only: ids are UUIDv5 over a key that names it,
times come from the source, dicts are built in one fixed key order. So a webhook, a backfill
page and a dead-letter replay of the same fact give identical bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from ..errors import InputError
from ..events import CredentialEvent, Kind
from ..identity import IdentityResolver, ResolvedLearner
from ..settings import Settings
from ..skills import SkillsFile
from ..timeutil import xapi_timestamp
from . import Statement
from . import vocabulary as v
from .corrections import voiding_of_correction

CREDENTIAL_KINDS = (Kind.ISSUED, Kind.ACCEPTED, Kind.REJECTED, Kind.EXPIRED)

RECIPE_CATEGORY = [{"id": v.OPEN_BADGES_RECIPE, "definition": {"type": v.RECIPE_ACTIVITY_TYPE}}]


class StatementBuilder:
    def __init__(
        self,
        resolver: IdentityResolver,
        *,
        namespace: uuid.UUID,
        extension_base: str,
        revocation_policy: Literal["void", "revoke", "both"] = "both",
        xapi_version: Literal["1.0.3", "2.0.0"] = "1.0.3",
        language: str = "en",
        platform_titles: Mapping[str, str] | None = None,
        skills: SkillsFile | None = None,
        organisations: Mapping[str, str] | None = None,
    ) -> None:
        self.resolver = resolver
        # connection name -> its organisation label (a connection not listed: its name, or for a
        # platform's default connection its title)
        self.organisations = dict(organisations or {})
        self.skills = skills  # None: the platforms' skill names only, no canonical extension
        self.platform_titles = dict(platform_titles or {})  # registry name -> as users know it
        self.namespace = namespace
        self.vocab = v.DeploymentVocabulary(extension_base)
        self.policy = revocation_policy
        self.xapi2 = xapi_version == "2.0.0"
        self.language = language
        self.connector_agent = {
            "objectType": "Agent",
            "account": {"homePage": self.vocab.base, "name": v.CONNECTOR_ACCOUNT_NAME},
        }

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        resolver: IdentityResolver,
        platform_titles: Mapping[str, str] | None = None,
        organisations: Mapping[str, str] | None = None,
    ) -> StatementBuilder:
        return cls(
            resolver,
            namespace=settings.statement_id_namespace,
            extension_base=settings.xapi_extension_base,
            revocation_policy=settings.revocation_policy,
            xapi_version=settings.lrs_xapi_version,
            language=settings.xapi_language,
            platform_titles=platform_titles,
            skills=SkillsFile(settings.skills_file) if settings.skills_file else None,
            organisations=organisations,
        )

    # -- entry point -------------------------------------------------------------------------

    def build(self, event: CredentialEvent, as_of: datetime | None = None) -> list[Statement]:
        """Statements for one event; `as_of` decides whether an issued credential has expired."""
        if event.kind is Kind.REVOKED:
            return self._revocation(event)
        learner = self.resolver.resolve(event.learner, event.platform)
        if event.kind in (Kind.SHARED, Kind.VIEWED):
            return [self._interaction(event, learner)]
        statements = [self._credential_statement(event, learner, event.kind, event.occurred_at)]
        expires_at = event.credential.expires_at
        if event.kind is Kind.ISSUED and as_of and expires_at and expires_at <= as_of:
            statements.append(self._credential_statement(event, learner, Kind.EXPIRED, expires_at))
        return statements

    # -- ids ---------------------------------------------------------------------------------

    def statement_id(self, event: CredentialEvent, kind: Kind, suffix: str = "") -> str:
        if kind in (Kind.SHARED, Kind.VIEWED):
            key = _interaction_key(event)
        else:
            key = f"{_seed(event)}|{event.credential.id}|{kind.value}{suffix}"
        return str(uuid.uuid5(self.namespace, key))

    # -- statement kinds ---------------------------------------------------------------------

    def _credential_statement(
        self,
        event: CredentialEvent,
        learner: ResolvedLearner,
        kind: Kind,
        when: datetime | None,
        verb: dict | None = None,
    ) -> Statement:
        statement: Statement = {
            "id": self.statement_id(event, kind),
            "actor": learner.agent,
            "verb": verb or self._verb(kind),
            "object": self._badge_class(event),
        }
        result = self._assertion_result(event)
        if result:
            statement["result"] = result
        statement["context"] = self._context(event, learner)
        _set_timestamp(statement, when)
        return statement

    def _revocation(self, event: CredentialEvent) -> list[Statement]:
        statements: list[Statement] = []
        if self.policy in ("void", "both") or event.minimal:
            statements.append(self._voiding(event))
            # The earned statement may stand corrected under the mapped agent (identity remap): void that copy too.
            agent = self.resolver.correction(event.learner, event.platform)
            if agent is not None:
                statements.append(voiding_of_correction(statements[0], agent, self.namespace))
        if self.policy in ("revoke", "both") and not event.minimal:
            learner = self.resolver.resolve(event.learner, event.platform)
            verb = {"id": self.vocab.verb_revoked, "display": {"en": "revoked"}}
            revoked = self._credential_statement(event, learner, Kind.REVOKED, event.occurred_at, verb)
            if event.reason:
                revoked.setdefault("result", {})["response"] = event.reason
            statements.append(revoked)
        return statements

    def _voiding(self, event: CredentialEvent) -> Statement:
        statement: Statement = {
            "id": self.statement_id(event, Kind.REVOKED, "|void"),
            "actor": self.connector_agent,
            "verb": {"id": v.VERB_VOIDED, "display": {"en": "voided"}},
            "object": {"objectType": "StatementRef", "id": self.statement_id(event, Kind.ISSUED)},
            "context": {"extensions": {self.vocab.ext_connection: self._connection(event)}},
        }
        _set_timestamp(statement, event.occurred_at)
        return statement

    def _interaction(self, event: CredentialEvent, learner: ResolvedLearner) -> Statement:
        interaction = event.interaction
        credential = event.credential
        if interaction is None:
            raise InputError("interaction", f"a {event.kind.value} event needs its interaction")
        if not credential.assertion_url:
            raise InputError("credential.assertion_url", "shares and views need the credential URL")
        actor = learner.agent
        context = self._context(event, learner, grouping=True)
        extensions = context.setdefault("extensions", {})
        # The channel of a share, and of a view the one it came through (a tracked link's, or the
        # platform's page: web, verification), so a funnel can be split by channel to the end.
        extensions[v.SHARE_MEDIUM_EXTENSION] = interaction.channel
        if interaction.by_guest:
            actor = self._guest(event)
            if self.xapi2:
                context["contextAgents"] = [
                    {
                        "objectType": "contextAgent",
                        "agent": learner.agent,
                        "relevantTypes": [self.vocab.agent_type_earner],
                    }
                ]
            else:
                extensions[self.vocab.ext_earner] = learner.agent
        if not extensions:
            del context["extensions"]
        statement: Statement = {
            "id": self.statement_id(event, event.kind),
            "actor": actor,
            "verb": self._verb(event.kind),
            "object": {
                "objectType": "Activity",
                "id": credential.assertion_url,
                "definition": {
                    "type": v.BADGE_ACTIVITY_TYPE,
                    "name": {self.language: credential.name},
                },
            },
            "context": context,
        }
        _set_timestamp(statement, event.occurred_at)
        return statement

    # -- parts -------------------------------------------------------------------------------

    def _verb(self, kind: Kind) -> dict:
        verb_id, display = v.VERBS[kind]
        return {"id": verb_id, "display": {"en": display}}

    def _guest(self, event: CredentialEvent) -> dict:
        home = (event.interaction and event.interaction.platform_home) or self.vocab.base
        return {"objectType": "Agent", "account": {"homePage": home, "name": v.GUEST_ACCOUNT_NAME}}

    def _badge_class(self, event: CredentialEvent) -> dict:
        credential = event.credential
        definition: dict = {"type": v.BADGE_ACTIVITY_TYPE, "name": {self.language: credential.name}}
        if credential.description:
            definition["description"] = {self.language: credential.description}
        badge_class = {"@id": credential.template_iri}
        for key, value in (
            ("image", credential.image),
            ("criteria", credential.criteria),
            ("issuer", (credential.issuer.id or credential.issuer.url) if credential.issuer else None),
        ):
            if value:
                badge_class[key] = value
        definition["extensions"] = {v.BADGECLASS_EXTENSION: badge_class}
        return {"objectType": "Activity", "id": credential.template_iri, "definition": definition}

    def _assertion_result(self, event: CredentialEvent) -> dict:
        url = event.credential.assertion_url
        return {"extensions": {v.BADGEASSERTION_EXTENSION: {"@id": url}}} if url else {}

    def _context(self, event: CredentialEvent, learner: ResolvedLearner, grouping: bool = False) -> dict:
        credential = event.credential
        activities: dict = {}
        if grouping:
            activities["grouping"] = [
                {
                    "objectType": "Activity",
                    "id": credential.template_iri,
                    "definition": {"type": v.BADGE_ACTIVITY_TYPE},
                }
            ]
        activities["category"] = RECIPE_CATEGORY
        context: dict = {
            "platform": self.platform_titles.get(event.platform, event.platform),
            "contextActivities": activities,
        }
        extensions = self._context_extensions(event, learner)
        if extensions:
            context["extensions"] = extensions
        return context

    def _context_extensions(self, event: CredentialEvent, learner: ResolvedLearner) -> dict:
        credential = event.credential
        vocab = self.vocab
        extensions: dict = {}
        if credential.skills:
            extensions[vocab.ext_skills] = list(credential.skills)
            canonical = self.skills.current().extension(credential.skills) if self.skills else None
            if canonical:
                extensions[vocab.ext_skills_canonical] = canonical
        issuer = credential.issuer
        if issuer and (issuer.name or issuer.url):
            extensions[vocab.ext_issuer] = {k: val for k, val in (("name", issuer.name), ("url", issuer.url)) if val}
        if credential.expires_at:
            extensions[vocab.ext_expires_at] = xapi_timestamp(credential.expires_at)
        if learner.job_role:
            extensions[vocab.ext_job_role] = learner.job_role
        if learner.team:
            extensions[vocab.ext_team] = learner.team
        extensions[vocab.ext_connection] = self._connection(event)
        return extensions

    def _connection(self, event: CredentialEvent) -> dict:
        name = event.connection_name
        default = self.platform_titles.get(name, name) if name == event.platform else name
        return {"name": name, "organisation": self.organisations.get(name, default)}


def _seed(event: CredentialEvent) -> str:
    """What names the account in a statement id: the platform alone for its default connection
    (the ids it always had), platform/connection for a named one, so that two accounts' credentials
    of the same id never share a statement."""
    if event.connection in (None, event.platform):
        return event.platform
    return f"{event.platform}/{event.connection}"


def _interaction_key(event: CredentialEvent) -> str:
    interaction = event.interaction
    platform = _seed(event)
    if interaction and interaction.id:
        return f"{platform}|{interaction.id}"
    channel = interaction.channel if interaction else ""
    when = xapi_timestamp(event.occurred_at) if event.occurred_at else ""
    return f"{platform}|{event.credential.id}|{event.kind.value}|{channel}|{when}"


def _set_timestamp(statement: Statement, when: datetime | None) -> None:
    if when is not None:
        statement["timestamp"] = xapi_timestamp(when)

"""Which credential a share button names: its earned statement in the LRS, completed (or replaced)
by what the request says. The result is the canonical event that the shared and viewed statements
are built from, so they name the same earner, badge class and platform as the earned one."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import ConnectorError, InputError, UnidentifiedLearner
from ..events import Credential, CredentialEvent, Issuer, Kind, Learner
from ..identity import IdentityResolver, LearnerDirectory
from ..intake.models import ShareLinkRequest
from ..platforms.common import first_text
from ..pull.csvmapping import PLATFORM_NAME
from ..timeutil import time_or_none, utc
from ..xapi import vocabulary as v
from .urls import as_uri

if TYPE_CHECKING:
    from ..settings import Settings

EARNED = v.VERBS[Kind.ISSUED][0]
# Without a learner or a badge class to filter on, this many of the latest earned statements are
# searched: a share button should name the learner (it knows who pressed it).
SCAN_LIMIT = 2000
NEEDED = ("platform", "name", "badge_class", "learner")  # credential_id defaults to the URL's last segment

Query = Callable[..., Iterator[dict]]  # LrsClient.query


class CredentialNotFound(ConnectorError):
    """Neither the LRS nor the request says enough about the credential: 404 with what is missing."""


class CredentialResolver:
    def __init__(
        self,
        query: Callable[[], Query],
        resolver: IdentityResolver,
        directory: LearnerDirectory,
        platform_titles: dict[str, str],
        extension_base: str,
    ) -> None:
        self.query = query  # built on first use: a request that names everything never opens the LRS client
        self.resolver = resolver
        self.directory = directory
        self.platforms = {title: name for name, title in platform_titles.items()} | {n: n for n in platform_titles}
        self.vocab = v.DeploymentVocabulary(extension_base)

    @classmethod
    def from_settings(cls, settings: Settings, directory: LearnerDirectory) -> CredentialResolver:
        from ..platforms import platform_titles
        from ..xapi.lrs import LrsClient

        client = functools.cache(lambda: LrsClient.from_settings(settings))
        resolver = IdentityResolver(settings.identity_ifi, directory, settings.identity_homepage)
        return cls(lambda: client().query, resolver, directory, platform_titles(), settings.xapi_extension_base)

    def event(self, request: ShareLinkRequest) -> CredentialEvent:
        """The credential's canonical (issued) event; CredentialNotFound, InputError."""
        given = _given(request)
        if request.platform and request.platform not in self.platforms.values():
            known = ", ".join(sorted(set(self.platforms.values())))
            raise InputError("platform", f"not a platform of this connector ({known})")
        statement = None if _complete(given) else self._earned(request)
        found = self._from_statement(statement) if statement else {}
        merged = {**found, **{k: value for k, value in given.items() if value is not None}}
        merged.setdefault("credential_id", _last_segment(request.credential_url))
        missing = [name for name in NEEDED if not merged.get(name)]
        if missing:
            where = (
                "no earned statement in the LRS has this credential_url"
                if statement is None
                else "its earned statement in the LRS does not say"
            )
            raise CredentialNotFound(f"{where}: give {', '.join(missing)} in the request")
        # The earned statement's form of the URL (its IRI or its URI), so shares join what was earned.
        return _event(_assertion(statement) if statement else request.credential_url, merged)

    def _earned(self, request: ShareLinkRequest) -> dict | None:
        params: dict[str, Any] = {"verb": EARNED, "limit": 200, "ascending": False}
        agent = self._agent(request)
        if agent:
            params["agent"] = agent
        elif request.badge_class:
            params["activity"] = request.badge_class
        statements = self.query()(**params)
        forms = {request.credential_url, as_uri(request.credential_url, "credential_url")}
        return _first(statements, forms, None if agent or request.badge_class else SCAN_LIMIT)

    def _agent(self, request: ShareLinkRequest) -> dict | None:
        """The learner's IFI as the earned statement carries it (the deployment's IDENTITY_IFI)."""
        learner = request.learner
        if learner is None or not (learner.email or learner.employee_id):
            return None
        try:
            agent = self.resolver.resolve(Learner(email=learner.email, earner_id=learner.employee_id)).agent
        except UnidentifiedLearner:
            return None
        return {key: agent[key] for key in v.IFI_KEYS if key in agent}

    def _from_statement(self, statement: dict) -> dict[str, Any]:
        """What an earned statement (StatementBuilder's shape) says of the credential and earner."""
        activity = _dict(statement.get("object"))
        definition = _dict(activity.get("definition"))
        badge_class = _dict(_dict(definition.get("extensions")).get(v.BADGECLASS_EXTENSION))
        context = _dict(statement.get("context"))
        extensions = _dict(context.get("extensions"))
        issuer = _dict(extensions.get(self.vocab.ext_issuer))
        skills = extensions.get(self.vocab.ext_skills)
        return {
            "platform": self._platform(_text(context.get("platform"))),
            "name": _language_value(definition.get("name")),
            "description": _language_value(definition.get("description")),
            "badge_class": activity.get("id"),
            "image": _text(badge_class.get("image")),
            "criteria": _text(badge_class.get("criteria")),
            "issuer_id": _text(badge_class.get("issuer")),
            "issuer_name": _text(issuer.get("name")),
            "issuer_url": _text(issuer.get("url")),
            "skills": tuple(s for s in skills if isinstance(s, str)) if isinstance(skills, list) else (),
            "issued_at": _time(statement.get("timestamp")),
            "expires_at": _time(extensions.get(self.vocab.ext_expires_at)),
            "learner": self._learner(_dict(statement.get("actor"))),
        }

    def _platform(self, written: str | None) -> str | None:
        """The registry name behind the statement's platform title; a credential imported through a
        CSV mapping carries the mapping's own platform name, which the share statements then carry too."""
        if written is None:
            return None
        return self.platforms.get(written) or (written if PLATFORM_NAME.match(written) else None)

    def _learner(self, actor: dict) -> Learner | None:
        name = _text(actor.get("name"))
        mbox = _text(actor.get("mbox"))
        if mbox and mbox.lower().startswith("mailto:"):
            return Learner(name=name, email=mbox[7:])
        account_name = _text(_dict(actor.get("account")).get("name"))
        entry = self.directory.find_agent(actor)
        if entry is not None:
            return Learner(
                name=name or entry.name or None, email=entry.email or None, earner_id=entry.employee_id or None
            )
        return Learner(name=name, earner_id=account_name) if account_name else None


def _given(request: ShareLinkRequest) -> dict[str, Any]:
    learner = request.learner
    given_learner = (
        Learner(name=learner.name, email=learner.email, earner_id=learner.employee_id)
        if learner and (learner.email or learner.employee_id)
        else None
    )
    return {
        "platform": request.platform,
        "credential_id": request.credential_id,
        "name": request.name,
        "badge_class": request.badge_class,
        "issuer_name": request.issuer_name,
        "issued_at": _utc(request.issued_at, "issued_at"),
        "expires_at": _utc(request.expires_at, "expires_at"),
        "learner": given_learner,
    }


def _complete(given: dict[str, Any]) -> bool:
    return all(given.get(name) for name in NEEDED)


def _first(statements: Iterable[dict], credential_urls: set[str], limit: int | None) -> dict | None:
    """The earned statement of the credential; `limit`: how many of the latest to search, which holds
    only while the LRS is seen to answer newest first (some answer oldest first whatever is asked)."""
    previous = None
    for index, statement in enumerate(statements):
        if _assertion(statement) in credential_urls:
            return statement
        stored = time_or_none(statement.get("stored"))
        if previous is not None and stored is not None and stored > previous:
            limit = None  # not newest first: the latest may be anywhere, so search them all
        previous = stored or previous
        if limit is not None and index + 1 >= limit:
            break
    return None


def _assertion(statement: dict) -> str | None:
    result = _dict(_dict(statement.get("result")).get("extensions"))
    return _text(_dict(result.get(v.BADGEASSERTION_EXTENSION)).get("@id"))


def _event(credential_url: str | None, found: dict[str, Any]) -> CredentialEvent:
    issuer = Issuer(id=found.get("issuer_id"), name=found.get("issuer_name"), url=found.get("issuer_url"))
    credential = Credential(
        id=found["credential_id"],
        assertion_url=credential_url,
        template_iri=found["badge_class"],
        name=found["name"],
        description=found.get("description"),
        image=found.get("image"),
        criteria=found.get("criteria"),
        issuer=issuer if issuer.name or issuer.url or issuer.id else None,
        skills=found.get("skills", ()),
        issued_at=found.get("issued_at"),
        expires_at=found.get("expires_at"),
    )
    return CredentialEvent(
        platform=found["platform"], kind=Kind.ISSUED, learner=found["learner"], credential=credential
    )


def _last_segment(url: str) -> str:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return segments[-1] if segments else url


def _utc(moment: datetime | None, field: str) -> datetime | None:
    try:
        return utc(moment) if moment else None
    except OverflowError:
        raise InputError(field, "outside the years 1 to 9999 in UTC") from None


_time = time_or_none  # the LRS holds what the connector wrote: a bad time is left out, not fatal


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


_text = first_text


def _language_value(value: Any) -> str | None:
    """A language map's first text (the connector writes one language, XAPI_LANGUAGE)."""
    return first_text(*_dict(value).values())

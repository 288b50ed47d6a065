"""Document -> canonical events -> validated statements: the translation step of the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from .. import metrics
from ..connections import named_connections
from ..errors import InputError
from ..events import CredentialEvent, Skipped
from ..identity import IdentityResolver, LearnerDirectory
from ..platforms import SourceAdapter, adapter_for, platform_titles
from ..settings import Settings
from ..xapi import Statement
from ..xapi.statements import StatementBuilder
from ..xapi.validate import validate_statement


@dataclass
class Translation:
    statements: list[Statement] = field(default_factory=list)
    events: list[CredentialEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class Translator:
    """Holds what is costly to build once per process: adapters, directory, builder."""

    def __init__(self, settings: Settings, directory: LearnerDirectory | None = None) -> None:
        if directory is None:
            directory = LearnerDirectory.from_settings(settings)
        self.settings = settings
        self.resolver = IdentityResolver(settings.identity_ifi, directory, settings.identity_homepage)
        organisations = {c.name: c.organisation for c in named_connections(settings)}
        self.builder = StatementBuilder.from_settings(settings, self.resolver, platform_titles(), organisations)
        self._adapters: dict[str, SourceAdapter] = {}

    def adapter(self, source: str) -> SourceAdapter:
        if source not in self._adapters:
            self._adapters[source] = adapter_for(source, self.settings)
        return self._adapters[source]

    def translate(self, source: str, document: object, as_of: datetime | None = None) -> Translation:
        """source: a platform (its default connection) or a named connection. Raises InputError,
        DetailsRequired, UnidentifiedLearner or InvalidStatement."""
        return self._translation(self.adapter(source).parse(document), as_of)

    def translate_event(self, event: dict | list, as_of: datetime | None = None) -> Translation:
        """Canonical events the connector made itself (a queue message of kind "event"): one (the
        expiry sweep's), or a list (a CSV import's page)."""
        try:
            parsed: list[CredentialEvent | Skipped] = [
                CredentialEvent.model_validate(e) for e in (event if isinstance(event, list) else [event])
            ]
        except ValidationError as error:
            raise InputError.from_validation(error, whole="(event)") from None
        return self._translation(parsed, as_of)

    def _translation(self, items: list[CredentialEvent | Skipped], as_of: datetime | None) -> Translation:
        result = Translation()
        for item in items:
            if isinstance(item, Skipped):
                result.skipped.append(item)
                continue
            result.events.append(item)
            if not item.minimal:  # a bare "this id is revoked" names no recipient
                metrics.count_recipient(self.resolver.maps(item.learner, item.platform), item.platform)
            result.statements.extend(self.statements(item, as_of))
        return result

    def statements(self, event: CredentialEvent, as_of: datetime | None = None) -> list[Statement]:
        statements = self.builder.build(event, as_of)
        for statement in statements:
            validate_statement(statement, self.settings.lrs_xapi_version)
        return statements

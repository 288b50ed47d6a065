"""Tracked share links: make one (POST /share-links, the share-link command), follow one (GET /s/{token}).

Making a link records it and queues its shared event. Following it redirects at once; a person's
first click of a window queues a viewed event, then marks the (link, client, window) seen: queued
before marked, as every delivery of the connector, so a crash between the two can only queue a
view twice, which gives the same statement id (the LRS stores it once). Crawlers drawing a link
preview and repeated clicks are counted, not queued. A click never waits for the LRS.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from ..errors import ConnectorError, InputError
from ..events import CredentialEvent
from ..intake import auth
from ..intake.http import Reply, answers_errors, not_configured, read_json_object, redirect, token_refusal
from ..intake.models import Error, ShareLinkCreated, ShareLinkRequest
from ..observability import log
from ..platforms.common import parse_model
from ..queue import Queue, QueueMessage
from ..secrets import reveal
from ..settings import Settings
from ..store import CountersAndFlags, DeliveryLog, ShareLink, ShareLinkStore
from ..timeutil import xapi_timestamp
from . import tokens, urls
from .clicks import Window, client_hash, view_id
from .crawlers import is_crawler
from .credentials import CredentialNotFound, CredentialResolver
from .events import shared_event, viewed_event
from .linkedin import add_to_profile_url

NOT_FOUND = "no such share link"
LINK_CACHE = 4096  # link records are immutable: clicks on popular links skip the store read


class ShareLinkState(ShareLinkStore, DeliveryLog, CountersAndFlags, Protocol):
    """The links, the delivery log a view is claimed in once per window, the view and click counters."""


class ShareLinks:
    def __init__(
        self,
        settings: Settings,
        store: ShareLinkState,
        queue: Queue,
        credentials: Callable[[], CredentialResolver],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.credentials = credentials  # built on first use: clicks never need the LRS client
        self.clock = clock
        self._links: OrderedDict[str, ShareLink] = OrderedDict()
        self._lock = threading.Lock()

    # -- making links ------------------------------------------------------------------------------

    @answers_errors
    def create(self, authorization: str | None, raw_body: bytes) -> Reply:
        refusal = token_refusal(self.settings, "SHARE_LINKS_TOKEN", authorization, auth.REFUSALS["bearer"])
        if refusal:
            return refusal
        if self._secrets() is None:
            return not_configured("SHARE_LINK_SECRET")
        request = parse_model(ShareLinkRequest, read_json_object(raw_body))
        try:
            return Reply(201, self.create_link(request))
        except CredentialNotFound as error:
            return Reply(404, Error(error=f"credential not found: {error}"))
        except InputError:
            raise
        except ConnectorError as error:  # the LRS cannot be asked, or the link cannot be stored or queued
            log("share_link_failed", error=type(error).__name__)
            return Reply(503, Error(error=f"could not make the link now; retry later ({type(error).__name__})"))

    def create_link(self, request: ShareLinkRequest) -> ShareLinkCreated:
        """CredentialNotFound, InputError; ConnectorError when the LRS, store or queue fails."""
        secrets = self._secrets()
        if secrets is None:
            raise ConnectorError("SHARE_LINK_SECRET is not set: links cannot be signed")
        target = urls.as_uri(request.credential_url, "credential_url")  # the Location header carries it
        if request.badge_class:
            urls.checked(request.badge_class, "badge_class")
        credential = self.credentials().event(request)
        link_id = tokens.new_link_id()
        created = datetime.fromtimestamp(self.clock(), UTC)
        shared = shared_event(credential, link_id, request.channel, created)
        link = ShareLink(link_id, request.channel, target, xapi_timestamp(created), shared.model_dump(mode="json"))
        self._guarded(lambda: self.store.put_share_link(link), "store")
        self._guarded(lambda: self._queue(shared), "queue")  # the link exists first: a click may follow at once
        log("share_link_created", link=link_id, channel=request.channel, platform=credential.platform)
        url = f"{self.settings.public_base_url}/s/{tokens.sign(link_id, secrets[0])}"
        return ShareLinkCreated(
            url=url,
            channel=request.channel,
            linkedin_url=self._linkedin(credential, url) if request.channel == "linkedin" else None,
        )

    def _linkedin(self, event: CredentialEvent, url: str) -> str:
        credential = event.credential
        return add_to_profile_url(
            name=credential.name,
            cert_url=url,
            cert_id=credential.id,
            organization_id=self.settings.linkedin_organization_id,
            issued_at=credential.issued_at,
            expires_at=credential.expires_at,
        )

    # -- following links ---------------------------------------------------------------------------

    def click(self, token: str, source_ip: str | None, user_agent: str | None) -> Reply:
        """The credential's page; 404 for a token this connector did not sign or does not know."""
        secrets = self._secrets()
        if secrets is None:
            return not_configured("SHARE_LINK_SECRET")
        link_id = tokens.link_id_of(token, secrets)
        link = self._link(link_id) if link_id else None
        if link is None:
            return Reply(404, Error(error=NOT_FOUND))
        try:
            location = urls.as_uri(link.target, "target")  # a link stored before targets were checked
        except InputError as error:
            log("share_link_unusable", link=link.id, error=error.message)
            return Reply(404, Error(error=NOT_FOUND))
        if is_crawler(user_agent):
            self._count("share_clicks_crawlers")
        else:
            self._view(link, client_hash(secrets[0], source_ip, user_agent))
        return redirect(location)

    def _view(self, link: ShareLink, client: str) -> None:
        window = Window.at(self.clock(), self.settings.share_click_window_seconds)
        interaction = view_id(link.id, client, window)
        key = f"share-view:{interaction}"
        try:
            if self.store.delivery_seen(key):
                self._count("share_clicks_repeated")
                return
            shared = CredentialEvent.model_validate(link.event)
            self._queue(viewed_event(shared, interaction, window.start, self.settings.public_base_url))
        except Exception as error:  # the visitor is redirected whatever happens: only the count is lost
            log("share_view_not_queued", link=link.id, error=type(error).__name__)
            return
        try:
            self.store.claim_delivery(key, window.seconds)
        except Exception as error:  # queued already: at worst a later click queues the same statement
            log("share_view_mark_failed", link=link.id, error=type(error).__name__)

    def _link(self, link_id: str) -> ShareLink | None:
        with self._lock:
            cached = self._links.get(link_id)
            if cached is not None:
                self._links.move_to_end(link_id)  # least recently clicked goes first, not the oldest
        if cached is not None:
            return cached
        link = self.store.share_link(link_id)
        if link is not None:
            with self._lock:
                self._links[link_id] = link
                if len(self._links) > LINK_CACHE:
                    self._links.popitem(last=False)
        return link

    # -- plumbing ----------------------------------------------------------------------------------

    def _secrets(self) -> list[str] | None:
        """The signing secret, then the one before a rotation; None when the first is not set."""
        current = reveal(self.settings, "share_link_secret")
        if current is None:
            return None
        previous = reveal(self.settings, "share_link_previous_secret")
        return [current, previous] if previous else [current]

    def _queue(self, event: CredentialEvent) -> None:
        self.queue.send(QueueMessage.for_event(event))

    def _count(self, counter: str) -> None:
        try:
            self.store.increment({counter: 1})
        except Exception as error:  # a statistic: never worth failing a redirect for
            log("share_count_failed", counter=counter, error=type(error).__name__)

    @staticmethod
    def _guarded(step: Callable[[], None], what: str) -> None:
        try:
            step()
        except ConnectorError:
            raise
        except Exception as error:  # a store or queue outage: the caller may retry
            raise ConnectorError(f"the {what} is unavailable: {type(error).__name__}") from error

"""Where the learner directory is read from, and when it is read again.

LEARNER_DIRECTORY is a local path (read again when its modification time or size changes), an S3
object `s3://bucket/key` (a conditional GetObject: read again when its ETag changes) or an
http(s) URL (a conditional GET with the ETag / Last-Modified it last answered, within the
HTTP_REQUEST_DEADLINE of each try). A running process checks at most every
LEARNER_DIRECTORY_REFRESH_SECONDS; a version that cannot be read or is refused (directory.py)
never replaces the one in use: it is logged, counted (`directory_refresh_failed`) and recorded
as a run of REFRESH_SOURCE / REFRESH_MODE, which `status` shows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConnectorError, SettingsError
from ..events import Learner
from ..httpretry import TransientFailure
from .directory import DirectoryEntry, LearnerDirectory, parse_directory

if TYPE_CHECKING:
    from ..settings import Settings
    from ..store import Run

# The run record of the directory's loads and failed checks (status.py reads it back).
REFRESH_SOURCE, REFRESH_MODE = "learner-directory", "refresh"


@dataclass(frozen=True)
class Fetched:
    data: bytes
    version: object  # what tells the next check whether it changed: compared for equality only


class DirectorySource(Protocol):
    shown: str  # where it is, as logs and status may show it (no credentials, no query)

    def fetch(self, seen: object | None) -> Fetched | None:
        """The directory's bytes, or None when it is still version `seen`; SettingsError when unreadable."""


class FileSource:
    def __init__(self, path: str) -> None:
        self.path = self.shown = path

    def fetch(self, seen: object | None) -> Fetched | None:
        before = self._stamp()
        if before == seen:
            return None
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {self.path}: {error.strerror}") from None
        if self._stamp() != before:  # written to while read: the next check reads the finished file
            return None
        return Fetched(data, before)

    def _stamp(self) -> tuple[int, int]:
        try:
            status = os.stat(self.path)
        except OSError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {self.path}: {error.strerror}") from None
        return status.st_mtime_ns, status.st_size


class S3Source:
    def __init__(self, bucket: str, key: str) -> None:
        self.bucket, self.key = bucket, key
        self.shown = f"s3://{bucket}/{key}"

    def fetch(self, seen: object | None) -> Fetched | None:
        from botocore.exceptions import BotoCoreError, ClientError

        from ..awsclients import aws_client

        conditions = {"IfNoneMatch": seen} if isinstance(seen, str) else {}
        try:
            answer = aws_client("s3").get_object(Bucket=self.bucket, Key=self.key, **conditions)
            data = answer["Body"].read()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("304", "NotModified"):
                return None
            raise SettingsError(f"LEARNER_DIRECTORY {self.shown}: S3 answered {code or 'an error'}") from None
        except BotoCoreError as error:
            raise SettingsError(f"LEARNER_DIRECTORY {self.shown}: S3 unreachable ({type(error).__name__})") from None
        return Fetched(data, answer.get("ETag"))


class HttpSource:
    def __init__(self, url: str, settings: Settings) -> None:
        from ..httpretry import CookielessSession, RetryingClient

        self.url, self.shown = url, shown_location(url)
        self.session = CookielessSession()
        self.policy = RetryingClient.policy_from(settings)
        self.timeout = (settings.lrs_connect_timeout, settings.lrs_read_timeout)

    def fetch(self, seen: object | None) -> Fetched | None:
        from ..httpretry import send

        etag, modified = seen if isinstance(seen, tuple) else (None, None)
        headers = {name: value for name, value in (("If-None-Match", etag), ("If-Modified-Since", modified)) if value}
        try:
            answer = send(
                self.session,
                "GET",
                self.url,
                policy=self.policy,
                what="learner directory",
                headers=headers,
                timeout=self.timeout,
            )
        except ConnectorError as error:  # TransientFailure, AnswerTooLarge: past the deadlines and bounds
            raise SettingsError(f"LEARNER_DIRECTORY {self.shown}: {error}") from None
        if answer.status_code == 304:
            return None
        if answer.status_code != 200:
            raise SettingsError(f"LEARNER_DIRECTORY {self.shown}: HTTP {answer.status_code}")
        return Fetched(answer.content, (answer.headers.get("ETag"), answer.headers.get("Last-Modified")))


def shown_location(location: str) -> str:
    """A location as logs and status show it: a URL without its user, password, query or fragment."""
    if not location.startswith(("https://", "http://")):
        return location
    parts = urlsplit(location)
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, f"{host}:{parts.port}" if parts.port else host, parts.path, "", ""))


def source_for(location: str, settings: Settings) -> DirectorySource:
    """The source LEARNER_DIRECTORY names; SettingsError for an S3 location without bucket or key."""
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        if not bucket or not key:
            raise SettingsError("LEARNER_DIRECTORY: an S3 location is s3://bucket/key")
        return S3Source(bucket, key)
    if location.startswith(("https://", "http://")):
        return HttpSource(location, settings)
    return FileSource(location)


def load(source: DirectorySource, seen: object | None = None) -> tuple[LearnerDirectory, object] | None:
    """The directory the source holds now with its version; None when it is still `seen`."""
    fetched = source.fetch(seen)
    if fetched is None:
        return None
    try:
        text = fetched.data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SettingsError(f"LEARNER_DIRECTORY {source.shown}: not UTF-8 text (byte {error.start})") from None
    return parse_directory(text, source.shown), fetched.version


def read_once(settings: Settings) -> LearnerDirectory:
    """LEARNER_DIRECTORY as it is now, for a command that reads it once (translate, report)."""
    if not settings.learner_directory:
        return LearnerDirectory()
    loaded = load(source_for(settings.learner_directory, settings))
    assert loaded is not None  # nothing was seen before: a source always answers
    return loaded[0]


class DirectoryUnavailable(TransientFailure):
    """No version of the directory could be read yet: what needs it is retried later, not lost."""


class LiveDirectory:
    """The directory a running process uses: LearnerDirectory's lookups, on the last good version.

    A check that is due starts a refresh on a thread of its own and the caller goes on with the
    version it has: a bounded check in line would hold a batch up to HTTP_REQUEST_DEADLINE per try
    whenever the source is slow, while a thread costs the caller nothing. Only the process's first
    read is waited for (there is nothing to use before it). In Lambda a refresh left in flight when
    the invocation ends resumes when the container is next used, or fails and is tried again."""

    def __init__(
        self,
        source: DirectorySource,
        refresh_seconds: float,
        record: Callable[[Run], None] = lambda run: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self.refresh_seconds, self.record, self.clock = source, refresh_seconds, record, clock
        self._snapshot: LearnerDirectory | None = None
        self._version: object | None = None
        self._error: SettingsError | None = None
        self._next_check = 0.0
        self._loading = threading.Lock()  # one read of the source at a time
        self._starting = threading.Lock()
        self._refreshing: threading.Thread | None = None

    # -- LearnerDirectory's interface --------------------------------------------------------

    def find(self, learner: Learner, platform: str | None = None) -> DirectoryEntry | None:
        return self.current().find(learner, platform)

    def find_agent(self, agent: object) -> DirectoryEntry | None:
        return self.current().find_agent(agent)

    def headcounts(self) -> dict[str, int]:
        return self.current().headcounts()

    def __len__(self) -> int:
        return len(self.current())

    def __bool__(self) -> bool:  # set up, whatever it holds: `directory or ...` must not read it
        return True

    def __iter__(self) -> Iterator[DirectoryEntry]:
        return iter(self.current())

    # -- versions ----------------------------------------------------------------------------

    def current(self) -> LearnerDirectory:
        """The version in use; starts a refresh when one is due. DirectoryUnavailable before any
        version could be read (asked again at most every refresh period)."""
        snapshot = self._snapshot
        if snapshot is None:
            with self._loading:
                if self._snapshot is None and self.clock() >= self._next_check:
                    self._refresh()
                if self._snapshot is None:
                    raise DirectoryUnavailable(str(self._error or "LEARNER_DIRECTORY: not read yet"))
                return self._snapshot
        if self.clock() >= self._next_check:
            self._start_refresh()
        return snapshot

    def wait(self, timeout: float) -> None:
        """Until the refresh in flight (if any) ends, at most `timeout` seconds (tests, benchmarks)."""
        thread = self._refreshing
        if thread is not None:
            thread.join(timeout)

    def _start_refresh(self) -> None:
        with self._starting:  # never the loading lock: a caller must not wait for a refresh in flight
            if self._refreshing is not None and self._refreshing.is_alive() or self.clock() < self._next_check:
                return
            self._next_check = self.clock() + self.refresh_seconds
            self._refreshing = threading.Thread(
                target=self._refresh_in_background, name="directory-refresh", daemon=True
            )
            self._refreshing.start()

    def _refresh_in_background(self) -> None:
        with self._loading:
            self._refresh()

    def _refresh(self) -> None:
        """Read the source if it changed; swap the version in only when the new one is good.
        Called with the loading lock held."""
        from ..runs import now_iso

        self._next_check = self.clock() + self.refresh_seconds
        started, began = now_iso(), time.monotonic()
        try:
            loaded = load(self.source, self._version)
        except SettingsError as error:
            self._failed(error, started)
            return
        except Exception as error:  # a bug reading one version must not stop the process using the last one
            self._failed(SettingsError(f"LEARNER_DIRECTORY {self.source.shown}: {type(error).__name__}"), started)
            return
        self._error = None
        if loaded is None:
            return
        self._snapshot, self._version = loaded
        self._loaded(started, round(time.monotonic() - began, 3))

    def _loaded(self, started: str, seconds: float) -> None:
        from ..observability import log
        from ..runs import FINISHED, now_iso
        from ..store import Run

        entries = len(self._snapshot or ())
        log("directory_loaded", source=self.source.shown, entries=entries, seconds=seconds)
        self._record(Run(REFRESH_SOURCE, REFRESH_MODE, started, now_iso(), FINISHED, 0, records=entries))

    def _failed(self, error: SettingsError, started: str) -> None:
        from .. import metrics
        from ..errors import EXIT_USAGE
        from ..observability import log
        from ..runs import FAILED, now_iso, one_line
        from ..store import Run

        self._error = error
        reason = one_line(error)  # the messages name lines and columns, never an email: one_line makes sure
        kept = len(self._snapshot) if self._snapshot is not None else None
        log("directory_refresh_failed", level=logging.ERROR, source=self.source.shown, error=reason, kept_entries=kept)
        metrics.count("directory_refresh_failed")
        self._record(Run(REFRESH_SOURCE, REFRESH_MODE, started, now_iso(), FAILED, EXIT_USAGE, error=reason))

    def _record(self, run: Run) -> None:
        from ..observability import log

        try:
            self.record(run)
        except Exception as failure:  # status misses one record; lookups go on
            log("directory_run_not_recorded", level=logging.WARNING, error=type(failure).__name__)


def live_directory(settings: Settings, record: Callable[[Run], None]) -> LiveDirectory | LearnerDirectory:
    """The directory of a running process: kept up to date when LEARNER_DIRECTORY is set."""
    if not settings.learner_directory:
        return LearnerDirectory()
    source = source_for(settings.learner_directory, settings)
    return LiveDirectory(source, settings.learner_directory_refresh_seconds, record)

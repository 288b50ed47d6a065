"""Where the learner directory is read from and when again: a file, S3 (moto), an HTTP server
counting full answers and 304s; a refresh never holds a lookup and a bad version never wins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib import metrics
from chalicelib.errors import SettingsError
from chalicelib.events import Learner
from chalicelib.identity.sources import DirectoryUnavailable, Fetched, LiveDirectory, load, shown_location, source_for
from chalicelib.settings import load_settings

HEADER = "employee_id,email,name,other_emails\n"
ADA = HEADER + "E-1,ada@example.com,Ada,\n"
ADA_AND_GRACE = ADA + "E-2,grace@example.com,Grace,grace@home.example.net\n"


def email(directory, address: str) -> str | None:
    entry = directory.find(Learner(email=address))
    return entry.employee_id if entry else None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- HTTP ------------------------------------------------------------------------------------


class Served:
    """One CSV over HTTP with an ETag, counting full answers and 304s."""

    def __init__(self, text: str) -> None:
        self.text, self.version, self.full, self.not_modified, self.conditional = text, 1, 0, 0, []

    def replace(self, text: str) -> None:
        self.text, self.version = text, self.version + 1


@pytest.fixture
def served() -> Iterator[tuple[Served, str]]:
    state = Served(ADA)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            etag = f'"v{state.version}"'
            state.conditional.append(self.headers.get("If-None-Match"))
            if self.headers.get("If-None-Match") == etag:
                state.not_modified += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            state.full += 1
            body = state.text.encode()
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/people.csv?sig=secret"
    finally:
        server.shutdown()
        server.server_close()


def test_an_http_directory_is_read_again_only_when_its_etag_changes(served):
    state, url = served
    clock = Clock()
    live = LiveDirectory(source_for(url, load_settings({})), 60, clock=clock)

    assert email(live, "ada@example.com") == "E-1"
    for _ in range(3):  # checks due: answered 304, nothing read again
        clock.now += 61
        live.current()
        live.wait(5)
    assert (state.full, state.not_modified) == (1, 3)
    assert state.conditional == [None, '"v1"', '"v1"', '"v1"']

    state.replace(ADA_AND_GRACE)
    clock.now += 61
    live.current()
    live.wait(5)
    assert (state.full, state.not_modified) == (2, 3)
    assert email(live, "grace@home.example.net") == "E-2"


def test_checks_are_no_more_frequent_than_the_refresh_period(served):
    state, url = served
    clock = Clock()
    live = LiveDirectory(source_for(url, load_settings({})), 60, clock=clock)
    for _ in range(20):
        clock.now += 2
        live.current()
        live.wait(5)
    assert state.full + state.not_modified == 1  # 40 s: the first read only


def test_a_shown_url_has_no_query_nor_credentials():
    assert (
        shown_location("https://hr:pw@files.example.com:8443/people.csv?X-Amz-Signature=abc#x")
        == "https://files.example.com:8443/people.csv"
    )
    assert shown_location("s3://bucket/key.csv") == "s3://bucket/key.csv"


# -- S3 --------------------------------------------------------------------------------------


def test_an_s3_directory_is_read_again_only_when_its_etag_changes(mocked_aws):
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="hr-people")
    s3.put_object(Bucket="hr-people", Key="people.csv", Body=ADA.encode())
    source = source_for("s3://hr-people/people.csv", load_settings({}))

    directory, version = load(source)
    assert email(directory, "ada@example.com") == "E-1"
    assert load(source, version) is None  # IfNoneMatch: 304, nothing read
    s3.put_object(Bucket="hr-people", Key="people.csv", Body=ADA_AND_GRACE.encode())
    directory, newer = load(source, version)
    assert newer != version and email(directory, "grace@home.example.net") == "E-2"


def test_an_s3_location_needs_a_bucket_and_a_key():
    with pytest.raises(SettingsError, match="s3://bucket/key"):
        source_for("s3://hr", load_settings({}))


def test_a_missing_s3_object_is_a_clear_error(mocked_aws):
    import boto3

    boto3.client("s3").create_bucket(Bucket="hr-people")
    with pytest.raises(SettingsError, match="LEARNER_DIRECTORY s3://hr-people/gone.csv: S3 answered NoSuchKey"):
        load(source_for("s3://hr-people/gone.csv", load_settings({})))


# -- files, versions, failures ----------------------------------------------------------------


def test_a_file_is_read_again_when_it_changes_and_a_bad_version_keeps_the_good_one(tmp_path, caplog):
    path = tmp_path / "people.csv"
    path.write_text(ADA)
    runs, clock = [], Clock()
    live = LiveDirectory(source_for(str(path), load_settings({})), 10, runs.append, clock)
    assert email(live, "ada@example.com") == "E-1"

    path.write_text(ADA + "E-2,Ada@Example.com,Someone,\n")  # two people, one email
    clock.now += 11
    metrics.flush()
    live.current()
    live.wait(5)
    assert email(live, "ada@example.com") == "E-1" and len(live) == 1
    assert dict(metrics._pending.get("", {})).get("directory_refresh_failed") == 1
    assert [(r.outcome, r.records) for r in runs] == [("finished", 1), ("failed", 0)]
    assert "line 3 (email)" in runs[-1].error and "@" not in runs[-1].error
    logged = [r.getMessage() for r in caplog.records if "directory_refresh_failed" in r.getMessage()]
    assert logged and not any("ada@" in line.lower() for line in logged)

    path.write_text(ADA_AND_GRACE)
    clock.now += 11
    live.current()
    live.wait(5)
    assert email(live, "grace@home.example.net") == "E-2"
    metrics.flush()


@pytest.mark.parametrize(
    "text",
    [ADA + "E-2,grace@exam", ADA.encode("utf-16").decode("latin-1"), "name\nAda\n"],
    ids=["cut short", "not UTF-8", "no required column"],
)
def test_any_refused_version_keeps_the_last_good_one(tmp_path, text):
    path = tmp_path / "people.csv"
    path.write_text(ADA)
    runs, clock = [], Clock()
    live = LiveDirectory(source_for(str(path), load_settings({})), 10, runs.append, clock)
    live.current()
    path.write_bytes(text.encode("latin-1") if "\x00" in text else text.encode())
    clock.now += 11
    live.current()
    live.wait(5)
    assert email(live, "ada@example.com") == "E-1" and runs[-1].outcome == "failed"


def test_a_refresh_in_flight_never_holds_a_lookup():
    release, asked = threading.Event(), threading.Event()

    class Slow:
        shown = "slow"
        calls = 0

        def fetch(self, seen):
            Slow.calls += 1
            if Slow.calls > 1:
                asked.set()
                release.wait(10)
                return Fetched(ADA_AND_GRACE.encode(), 2)
            return Fetched(ADA.encode(), 1)

    clock = Clock()
    live = LiveDirectory(Slow(), 10, clock=clock)
    assert email(live, "ada@example.com") == "E-1"
    clock.now += 11
    live.current()
    assert asked.wait(5)  # the refresh is reading, held
    assert email(live, "ada@example.com") == "E-1"  # answered from the version in use meanwhile
    assert email(live, "grace@example.com") is None
    release.set()
    live.wait(5)
    assert email(live, "grace@example.com") == "E-2"


def test_no_version_yet_is_a_transient_failure_asked_again_once_per_period(tmp_path):
    path = tmp_path / "people.csv"
    runs, clock = [], Clock()
    live = LiveDirectory(source_for(str(path), load_settings({})), 10, runs.append, clock)
    for _ in range(3):
        with pytest.raises(DirectoryUnavailable, match="No such file"):
            live.current()
    assert len(runs) == 1  # the file was asked for once in the period
    path.write_text(ADA)
    clock.now += 11
    assert email(live, "ada@example.com") == "E-1"


def test_a_live_directory_is_not_read_to_be_built_or_tested_for_truth(tmp_path):
    live = LiveDirectory(source_for(str(tmp_path / "absent.csv"), load_settings({})), 10)
    assert live  # `directory or default` must not read (nor fail on) the source

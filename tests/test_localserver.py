"""chalice local tuning: one request through the app at a time, secrets out of the access log."""

from __future__ import annotations

import threading
import time

from chalicelib.localserver import one_request_at_a_time, serialized


def test_serialized_calls_never_overlap_and_keep_their_answers():
    inside, most = [0], [0]
    guard = threading.Lock()

    def handle(number: int) -> int:
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.002)  # a request in the app: another thread would get in here
        with guard:
            inside[0] -= 1
        return number * 2

    one_at_a_time = serialized(handle)
    answers: dict[int, int] = {}
    threads = [threading.Thread(target=lambda n=n: answers.__setitem__(n, one_at_a_time(n))) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert answers == {n: n * 2 for n in range(20)}


def test_chalice_locals_gateway_is_wrapped_once():
    from chalice.local import LocalGateway

    installed = LocalGateway.handle_request  # importing app under chalice local wraps it already
    original = getattr(installed, "__wrapped__", installed)
    LocalGateway.handle_request = original
    try:
        one_request_at_a_time()
        wrapped = LocalGateway.handle_request
        one_request_at_a_time()  # tune() may run again (a reload): not wrapped twice
        assert LocalGateway.handle_request is wrapped and wrapped.__wrapped__ is original
    finally:
        LocalGateway.handle_request = installed


def test_the_access_log_redaction_is_installed_once():
    from chalice.local import ChaliceRequestHandler

    from chalicelib.localserver import hide_path_secrets

    installed = ChaliceRequestHandler.log_request, ChaliceRequestHandler.log_error
    original = [getattr(method, "__wrapped__", method) for method in installed]
    ChaliceRequestHandler.log_request, ChaliceRequestHandler.log_error = original
    try:
        hide_path_secrets(("/webhooks/credly/",))
        wrapped = ChaliceRequestHandler.log_request, ChaliceRequestHandler.log_error
        hide_path_secrets(("/webhooks/credly/",))  # tune() may run again (a reload): not wrapped twice
        assert (ChaliceRequestHandler.log_request, ChaliceRequestHandler.log_error) == wrapped
        assert [method.__wrapped__ for method in wrapped] == original
    finally:
        ChaliceRequestHandler.log_request, ChaliceRequestHandler.log_error = installed

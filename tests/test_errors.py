"""Ids a caller sent reach messages, logs and dead-letter reasons only printable and bounded."""

from chalicelib.errors import DetailsRequired, shown_id


def test_a_caller_id_is_shown_printable_and_bounded():
    assert shown_id("evt-1") == "evt-1"
    assert shown_id('evt\n{"forged": 1}\r\x00\ud800é') == 'evt?{"forged": 1}????'
    assert shown_id("e" * 500) == "e" * 80 + "..."


def test_details_required_names_the_resource_safely():
    message = str(DetailsRequired("certifier", "abc\ninjected" + "x" * 300))
    assert "\n" not in message and "abc?injected" in message and len(message) < 250

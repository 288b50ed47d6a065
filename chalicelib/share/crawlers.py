"""Link-preview crawlers: a site fetches a posted link to draw its card; that is not a view.

Matched on the User-Agent (lower-cased substrings). Named bots first, then the generic words any
well-behaved robot puts in its User-Agent. Microsoft Teams unfurls links as SkypeUriPreview (a
bare "Teams" would also match people clicking inside the Teams app). An empty User-Agent, or a
command-line client's, is a script, not a person: not counted either.
"""

from __future__ import annotations

import re

PREVIEWERS = (
    "linkedinbot",
    "slackbot",
    "slack-imgproxy",
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "skypeuripreview",
    "discordbot",
    "whatsapp",
    "telegrambot",
    "embedly",
    "redditbot",
    "applebot",
    "googlebot",
    "bingbot",
    "bingpreview",
    "baiduspider",
    "duckduckbot",
    "mastodon",
    "iframely",
    "microsoftpreview",
    "google-pagerenderer",
)
GENERIC = re.compile(r"bot\b|bot/|crawler|spider|preview|scraper|headlesschrome|python-requests|curl/|wget/")


def is_crawler(user_agent: str | None) -> bool:
    agent = (user_agent or "").strip().lower()
    if not agent:
        return True
    return any(name in agent for name in PREVIEWERS) or GENERIC.search(agent) is not None

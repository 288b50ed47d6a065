"""`python -m chalicelib share-link`: a tracked share link for a credential, as POST /share-links makes it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import get_args

from ..errors import ConnectorError, InputError
from ..intake.models import Channel

OPTIONS = {"credential_url": "credential", "learner.name": "learner-name"}  # request field -> option


def register(commands: argparse._SubParsersAction) -> None:
    share = commands.add_parser(
        "share-link",
        help="make a tracked share link for a credential (and LinkedIn's add-to-profile URL)",
        description="Makes a short link to the credential's public page: following it redirects there and counts "
        "as a view (one viewed statement per visitor and SHARE_CLICK_WINDOW_SECONDS); making it queues the shared "
        "statement. The earner and the credential are read from the credential's earned statement in the LRS, "
        "unless the options name them. Prints JSON: url, channel, linkedin_url. Needs SHARE_LINK_SECRET; links "
        "start with PUBLIC_BASE_URL.",
    )
    share.add_argument(
        "--credential", required=True, metavar="URL", help="the credential's public page (assertion URL)"
    )
    share.add_argument("--channel", required=True, choices=get_args(Channel))
    share.add_argument("--email", help="the earner's email (finds the earned statement faster)")
    share.add_argument("--employee-id", help="the earner's id in the organisation")
    share.add_argument("--learner-name", help="the earner's name")
    share.add_argument("--platform", help="the platform's name in the connector, e.g. credly")
    share.add_argument("--credential-id", help="the platform's credential id (default: the URL's last segment)")
    share.add_argument("--name", help="the credential's name")
    share.add_argument("--badge-class", metavar="IRI", help="the badge class / template IRI")
    share.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..intake.models import ShareLinkRequest
    from ..platforms.common import parse_model
    from ..runtime import services

    learner = {
        k: v for k, v in (("email", args.email), ("employee_id", args.employee_id), ("name", args.learner_name)) if v
    }
    fields = {
        "credential_url": args.credential,
        "channel": args.channel,
        "platform": args.platform,
        "credential_id": args.credential_id,
        "name": args.name,
        "badge_class": args.badge_class,
        "learner": learner or None,
    }
    try:
        request = parse_model(ShareLinkRequest, {k: v for k, v in fields.items() if v is not None})
        created = services().share_links.create_link(request)
    except InputError as error:
        option = OPTIONS.get(error.field, error.field.split(".")[-1])
        raise ConnectorError(f"--{option.replace('_', '-')}: {error.message}") from None
    json.dump(created.model_dump(mode="json", exclude={"status"}), sys.stdout, indent=2)
    print()
    return 0

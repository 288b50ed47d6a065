"""The intake's answers, and reading request bodies into JSON with a 400 that says what is wrong."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..errors import InputError, NotForThisConnector, SettingsError
from ..observability import log
from ..platforms.common import require_queueable_json
from ..secrets import reveal
from . import auth
from .models import Error, FieldError

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass(frozen=True)
class Reply:
    """A status and its JSON body: one of the answer models (models.py), kept as its dict; or, for a
    redirect, no body and the headers that say where to."""

    status: int
    body: dict | BaseModel | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    def __post_init__(self) -> None:
        if isinstance(self.body, BaseModel):
            object.__setattr__(self, "body", self.body.model_dump(mode="json"))


def answers_errors(route: Callable[..., Reply]) -> Callable[..., Reply]:
    """What a caller sent wrong is a 4xx naming it; a secret that cannot be read is the
    operator's problem (503), never a 500 for the caller."""

    @functools.wraps(route)
    def guarded(*args: Any, **kwargs: Any) -> Reply:
        try:
            return route(*args, **kwargs)
        except InputError as error:
            return bad_request(error.field, error.message)
        except NotForThisConnector as error:
            return Reply(403, Error(error=str(error)))
        except SettingsError as error:
            log("configuration_error", level=logging.ERROR, route=route.__name__, error=str(error))
            return Reply(503, Error(error=f"the connector is misconfigured: {error}"))

    return guarded


def read_json(raw_body: bytes) -> Any:
    """The body's JSON; InputError for anything the connector could never store or send."""
    try:
        data = json.loads(raw_body or b"", parse_constant=_no_constant)
    except RecursionError:
        raise InputError("(body)", "JSON nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = f" at line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise InputError("(body)", f"not valid JSON{where}") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise InputError("(body)", f"not usable JSON: {str(error)[:120]}") from None
    require_queueable_json(raw_body or b"", data)  # lone surrogates, nesting no queue or store can take
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json_object(raw_body: bytes) -> dict:
    data = read_json(raw_body)
    if not isinstance(data, dict):
        raise InputError("(body)", "expected a JSON object")
    return data


def one_or_many(data: Any) -> list:
    """A body that is one document or an array of them; an empty array says nothing."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError("(body)", "empty array")
    return items


def bad_request(field_name: str, message: str) -> Reply:
    return Reply(400, FieldError(error=f"{field_name}: {message}", field=field_name))


def redirect(location: str) -> Reply:
    """302 to `location`, never cached: each click is to reach the connector."""
    return Reply(302, "", {"Location": location, "Cache-Control": "no-store"})


def not_configured(settings: str) -> Reply:
    return Reply(503, Error(error=f"this route is not configured: set {settings}"))


def token_refusal(
    settings: Settings, setting: str, authorization: str | None, refused: str, basic_too: bool = False
) -> Reply | None:
    """None when `authorization` carries the secret setting `setting` (Bearer; with basic_too,
    also Basic with it as the password); else 503 when it is not set, 401 with `refused`."""
    token = reveal(settings, setting.lower())
    if token is None:
        return not_configured(setting)
    if auth.bearer_matches(authorization, token) or (basic_too and auth.basic_password_matches(authorization, token)):
        return None
    return Reply(401, Error(error=refused))

"""The base of platform API clients that authenticate with one secret token (Certifier, Accredible)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self, Unpack

from ..httpretry import ClientOptions, RetryingClient
from .common import Token, current_secret, token_value

if TYPE_CHECKING:
    from ..settings import Settings


class TokenClient(RetryingClient):
    base_setting: ClassVar[str]  # the settings field of the API's base URL
    token_setting: ClassVar[str]  # the settings field of the secret token

    def __init__(self, api_base: str, token: Token, **options: Unpack[ClientOptions]) -> None:
        super().__init__(**options)
        self.base = api_base.rstrip("/")
        self._token = token

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The registry has checked that the token is set; a rotated secret is read per request."""
        token = current_secret(settings, cls.token_setting)
        return cls(getattr(settings, cls.base_setting), token, retry=cls.policy_from(settings))

    def token(self) -> str:
        return token_value(self._token)

"""Organisation API tokens for HR integrations: `Authorization: Token <value>`, stored hashed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request


class OrganisationTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a request as an organisation (request.auth is the token row; no user)."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        from accounts.teams import authenticate_api_token

        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give the token as: Authorization: Token <value>.")
        token = authenticate_api_token(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("This token is not valid or was revoked.")
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class OrganisationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.OrganisationTokenAuthentication"
    name = "organisationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Organisation API token, sent as `Token <value>`. Created by organisation admins.",
        }

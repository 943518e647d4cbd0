"""Dependencies as ``Annotated`` aliases, so route signatures stay short.

Routes get services only through these; they never touch ``app.state``, pools or clients.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from core.exceptions import AuthenticationError
from service.init import Services
from service.private_images import PrivateImageService
from service.public_images import PublicImageService

basic_auth = HTTPBasic(realm="pixyproxy", auto_error=False)
BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(basic_auth)]


def get_services(request: Request) -> Services:
    """The services built once by the app's lifespan."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def optional_caller(
    request: Request, services: ServicesDep, credentials: BasicCredentials
) -> str | None:
    """The authenticated username, ``None`` without credentials; wrong ones are a 401."""
    if credentials is None:
        return None
    username = services.authenticate(credentials.username, credentials.password)
    request.state.user = username
    return username


OptionalCaller = Annotated[str | None, Depends(optional_caller)]


def required_caller(caller: OptionalCaller) -> str:
    """The authenticated username; missing credentials are a 401."""
    if caller is None:
        raise AuthenticationError
    return caller


RequiredCaller = Annotated[str, Depends(required_caller)]


def public_images(services: ServicesDep, caller: OptionalCaller) -> PublicImageService:
    """The public scope, acting as the caller if one logged in."""
    return services.public(caller)


def private_images(services: ServicesDep, owner: RequiredCaller) -> PrivateImageService:
    """The authenticated caller's private scope."""
    return services.private(owner)


PublicImages = Annotated[PublicImageService, Depends(public_images)]
PrivateImages = Annotated[PrivateImageService, Depends(private_images)]


def log_route_context(request: Request) -> None:
    """App-wide: note the matched route template for the access log line.

    This is the request's "dependency for universal logging of all requests"; the line
    itself is written by ``RequestContextMiddleware``, which also sees requests that
    never reach a route (see that module).
    """
    route = request.scope.get("route")
    request.state.route = getattr(route, "path", None)

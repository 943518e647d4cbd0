"""Dependencies as ``Annotated`` aliases, so route signatures stay short.

They are ``async def`` because they do no I/O: FastAPI runs every plain ``def``
dependency in its thread pool, and a thread hop per dependency cost more than the
whole database read of ``GET /image/{guid}`` (see bench/README.md). The one blocking
call, the password check, is sent to the thread pool explicitly.

Routes get services only through these; they never touch ``app.state``, pools or clients.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from core.exceptions import AuthenticationError
from service.init import Services
from service.private_images import PrivateImageService
from service.public_images import PublicImageService
from web.basic_auth import StrictHTTPBasic
from web.detail_reads import DetailReads

basic_auth = StrictHTTPBasic(realm="pixyproxy", scheme_name="HTTPBasic", auto_error=False)
BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(basic_auth)]


async def get_services(request: Request) -> Services:
    """The services built once by the app's lifespan."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def client_address(request: Request) -> str | None:
    """The caller's address, for the rate limits (behind a proxy: see FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else None


async def authenticated(request: Request, credentials: HTTPBasicCredentials | None) -> str | None:
    """The username ``credentials`` prove, ``None`` without any; wrong ones are a 401."""
    if credentials is None:
        return None
    services: Services = request.app.state.services
    # The password check (database + scrypt) blocks: it runs in the thread pool.
    username = await run_in_threadpool(
        services.authenticate,
        credentials.username,
        credentials.password,
        client=client_address(request),
    )
    request.state.user = username
    return username


async def optional_caller(request: Request, credentials: BasicCredentials) -> str | None:
    """The authenticated username, ``None`` without credentials; wrong ones are a 401."""
    return await authenticated(request, credentials)


OptionalCaller = Annotated[str | None, Depends(optional_caller)]


async def required_caller(caller: OptionalCaller) -> str:
    """The authenticated username; missing credentials are a 401."""
    if caller is None:
        raise AuthenticationError
    return caller


RequiredCaller = Annotated[str, Depends(required_caller)]


async def public_images(request: Request, credentials: BasicCredentials) -> PublicImageService:
    """The public scope, acting as the caller if one logged in, from the caller's address.

    One dependency over the credentials rather than a chain (services → caller → scope):
    FastAPI's per-request cost grows with every dependency it solves, and this one is on
    every public request (see bench/README.md).
    """
    services: Services = request.app.state.services
    caller = await authenticated(request, credentials)
    return services.public(caller, client=client_address(request))


async def private_images(services: ServicesDep, owner: RequiredCaller) -> PrivateImageService:
    """The authenticated caller's private scope."""
    return services.private(owner)


PublicImages = Annotated[PublicImageService, Depends(public_images)]
PrivateImages = Annotated[PrivateImageService, Depends(private_images)]


async def detail_reads(request: Request) -> DetailReads:
    """The app's batches of detail reads (web/detail_reads.py), made by its lifespan."""
    reads: DetailReads = request.app.state.detail_reads
    return reads


DetailReadsDep = Annotated[DetailReads, Depends(detail_reads)]


async def log_route_context(request: Request) -> None:
    """App-wide: note the matched route template for the access log line.

    This is the request's "dependency for universal logging of all requests"; the line
    itself is written by ``RequestContextMiddleware``, which also sees requests that
    never reach a route (see that module).
    """
    route = request.scope.get("route")
    request.state.route = getattr(route, "path", None)

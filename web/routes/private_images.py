"""Private images: the authenticated caller's own, behind HTTP Basic on the whole router."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from core.models import ImageDetail, ImageDetailCreate
from service.imaging import RenditionKind
from web.content_response import content_response
from web.dependencies import DetailReadsDep, PrivateImages, required_caller
from web.errors import responses
from web.idempotency import IdempotencyKey
from web.json_body import detail_response
from web.listing import ListParams, list_response
from web.threads import in_create_thread

router = APIRouter(
    prefix="/private/image",
    tags=["private images"],
    dependencies=[Depends(required_caller)],
    responses=responses(401, 429),
)


@router.post(
    "",
    status_code=201,
    response_model=ImageDetail,
    responses=responses(409, 422, 429, 502, 503, 504),
)
async def create_private_image(
    body: ImageDetailCreate,
    images: PrivateImages,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Generate a private image owned by the caller."""
    detail = await in_create_thread(images.create_image, body, idempotency_key=idempotency_key)
    return detail_response(
        detail, status_code=201, headers={"Location": f"/private/image/{detail.guid}"}
    )


@router.get("", response_model=list[ImageDetail], responses=responses(422, 503))
async def list_private_images(
    images: PrivateImages, params: Annotated[ListParams, Query()], request: Request
) -> Response:
    """The caller's private images, newest first, one page."""
    return await list_response(images, params, request)


@router.get("/{guid}", response_model=ImageDetail, responses=responses(404, 422, 503))
async def get_private_image(guid: UUID, images: PrivateImages, reads: DetailReadsDep) -> Response:
    """One of the caller's private images."""
    return detail_response(await reads.get(images, str(guid)))


CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "The image bytes, streamed"},
    206: {"description": "A byte range"},
    304: {"description": "Not modified (If-None-Match)"},
    416: {"description": "Range not satisfiable"},
    **responses(404, 422, 503),
}


@router.get(
    "/{guid}/content",
    response_class=Response,
    responses=CONTENT_RESPONSES,
)
@router.head(
    "/{guid}/content",
    operation_id="head_private_image_content",
    response_class=Response,
    responses=CONTENT_RESPONSES,
)
async def get_private_image_content(
    guid: UUID, images: PrivateImages, request: Request, download: bool = False
) -> Response:
    """The bytes of one of the caller's private images (never redirected)."""
    return await content_response(images, str(guid), request, download=download)


RENDITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    **CONTENT_RESPONSES,
    200: {"content": {"image/webp": {}}, "description": "The rendition's WebP bytes, streamed"},
}


@router.get("/{guid}/thumbnail", response_class=Response, responses=RENDITION_RESPONSES)
@router.head(
    "/{guid}/thumbnail",
    operation_id="head_private_image_thumbnail",
    response_class=Response,
    responses=RENDITION_RESPONSES,
)
async def get_private_image_thumbnail(
    guid: UUID, images: PrivateImages, request: Request, download: bool = False
) -> Response:
    """The thumbnail: WebP, longest side 256 px, delivered exactly as ``/content``."""
    return await content_response(
        images, str(guid), request, download=download, rendition=RenditionKind.THUMBNAIL
    )


@router.get("/{guid}/preview", response_class=Response, responses=RENDITION_RESPONSES)
@router.head(
    "/{guid}/preview",
    operation_id="head_private_image_preview",
    response_class=Response,
    responses=RENDITION_RESPONSES,
)
async def get_private_image_preview(
    guid: UUID, images: PrivateImages, request: Request, download: bool = False
) -> Response:
    """The preview: WebP, longest side 1024 px, delivered exactly as ``/content``."""
    return await content_response(
        images, str(guid), request, download=download, rendition=RenditionKind.PREVIEW
    )


@router.delete("/{guid}", status_code=204, responses=responses(404, 422, 503))
def delete_private_image(guid: UUID, images: PrivateImages) -> Response:
    """Delete one of the caller's private images: the row, then the blob."""
    images.delete_image(str(guid))
    return Response(status_code=204)

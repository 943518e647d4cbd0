"""The plain build: the original request done the obvious way, as the reference to beat.

What a first version of the seed's design looks like (seed/000_…txt): its
``DatabaseContext`` opens a **new MySQL connection per request** (``connect()`` with the
environment's credentials, a dictionary cursor, ``start_transaction``, ``commit``,
``close``); ``GET /image`` returns **every** public row; ``/content`` reads the whole
object from S3 into memory and returns it; ``POST /image`` generates (the same offline
generator), uploads and inserts. Plain ``def`` routes returning models through
``response_model``, no pool, no paging, no streaming, no logging. Same database, same
bucket, same driver (C extension when it loads), the same wire models and the same
uvicorn options as ``pixyproxy serve``.

Run: ``python -m bench.plain_app --port 8002`` with the service's ``DB_*``/``S3_*``/``AWS_*``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import boto3
import mysql.connector
import uvicorn
from fastapi import FastAPI, HTTPException, Response

from core.media import sniff_media_type
from core.models import ImageDetail, ImageDetailCreate, slugify
from service.generation.offline import OfflineImageGenerator

COLUMNS = (
    "id, guid, prompt, filename, content_type, size_bytes, sha256, author, is_private,"
    " storage_key, created_at, updated_at"
)


class DatabaseContext:
    """The seed's context: a fresh connection and a dictionary cursor per use."""

    def __init__(self) -> None:
        self.connection = mysql.connector.connect(
            host=os.environ["DB_HOST"],
            port=int(os.environ.get("DB_PORT") or 3306),
            user=os.environ["DB_USER"],
            password=os.environ.get("DB_PASSWORD", ""),
            database=os.environ["DB_NAME"],
        )
        self.cursor: Any = self.connection.cursor(dictionary=True)

    def __enter__(self) -> DatabaseContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cursor.close()
        self.connection.close()


def detail(row: dict[str, Any], tags: list[str]) -> ImageDetail:
    """A row and its tags → the wire model."""
    return ImageDetail(
        guid=row["guid"],
        prompt=row["prompt"],
        tags=tags,
        filename=row["filename"],
        author=row["author"],
        private=bool(row["is_private"]),
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def find(db: DatabaseContext, guid: str) -> dict[str, Any]:
    """The public row with ``guid`` or a 404."""
    db.cursor.execute(
        f"SELECT {COLUMNS} FROM images WHERE guid = %(guid)s AND is_private = 0",  # noqa: S608
        {"guid": guid},
    )
    row: dict[str, Any] | None = db.cursor.fetchone()
    if row is None:
        raise HTTPException(404)
    return row


def create_plain_app() -> FastAPI:
    """The four endpoints of the seed, written plainly."""
    bucket = os.environ["S3_BUCKET"]
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_REGION"),
    )
    generator = OfflineImageGenerator()
    app = FastAPI()

    @app.post("/image", status_code=201, response_model=ImageDetail)
    def create_image(body: ImageDetailCreate) -> ImageDetail:
        data = generator.generate(body.prompt)
        media = sniff_media_type(data)
        assert media is not None
        guid = str(uuid.uuid4())
        key = f"images/{guid}.{media.extension}"
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=media.content_type)
        now = datetime.now(UTC).replace(tzinfo=None)
        row = {
            "guid": guid,
            "prompt": body.prompt,
            "filename": f"{slugify(body.prompt)}-{guid[:8]}.{media.extension}",
            "content_type": media.content_type,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "author": None,
            "is_private": 0,
            "storage_key": key,
            "created_at": now,
            "updated_at": now,
        }
        with DatabaseContext() as db:
            db.connection.start_transaction()
            db.cursor.execute(
                "INSERT INTO images (guid, prompt, filename, content_type, size_bytes, sha256,"
                " author, is_private, storage_key, created_at, updated_at) VALUES (%(guid)s,"
                " %(prompt)s, %(filename)s, %(content_type)s, %(size_bytes)s, %(sha256)s,"
                " %(author)s, %(is_private)s, %(storage_key)s, %(created_at)s, %(updated_at)s)",
                row,
            )
            image_id = db.cursor.lastrowid
            for n, tag in enumerate(body.tags):
                db.cursor.execute(
                    "INSERT INTO image_tags (image_id, tag, ordinal, is_private, created_at)"
                    " VALUES (%(id)s, %(tag)s, %(n)s, 0, %(at)s)",
                    {"id": image_id, "tag": tag, "n": n, "at": now},
                )
            db.connection.commit()
        return detail(row, body.tags)

    @app.get("/image/{guid}", response_model=ImageDetail)
    def get_image(guid: str) -> ImageDetail:
        with DatabaseContext() as db:
            db.connection.start_transaction()
            row = find(db, guid)
            db.cursor.execute(
                "SELECT tag FROM image_tags WHERE image_id = %(id)s ORDER BY ordinal",
                {"id": row["id"]},
            )
            tags = [str(tag_row["tag"]) for tag_row in db.cursor.fetchall()]
            db.connection.commit()
        return detail(row, tags)

    @app.get("/image", response_model=list[ImageDetail])
    def list_images() -> list[ImageDetail]:
        with DatabaseContext() as db:
            db.connection.start_transaction()
            db.cursor.execute(
                f"SELECT {COLUMNS} FROM images WHERE is_private = 0"  # noqa: S608
                " ORDER BY created_at DESC, id DESC"
            )
            rows = db.cursor.fetchall()
            db.cursor.execute("SELECT image_id, tag FROM image_tags ORDER BY ordinal")
            tags: dict[int, list[str]] = {}
            for tag_row in db.cursor.fetchall():
                tags.setdefault(int(tag_row["image_id"]), []).append(str(tag_row["tag"]))
            db.connection.commit()
        return [detail(row, tags.get(int(row["id"]), [])) for row in rows]

    @app.get("/image/{guid}/content")
    def get_image_content(guid: str) -> Response:
        with DatabaseContext() as db:
            db.connection.start_transaction()
            row = find(db, guid)
            db.connection.commit()
        data = s3.get_object(Bucket=bucket, Key=row["storage_key"])["Body"].read()
        return Response(data, media_type=row["content_type"])

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app


def main() -> None:
    """Serve the plain build with ``pixyproxy serve``'s uvicorn options."""
    parser = argparse.ArgumentParser(description="the plain build, the benchmark's reference")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "bench.plain_app:create_plain_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()

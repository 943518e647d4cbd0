"""Private images and DELETE over HTTP, on MariaDB + moto S3 + the fake Images API.

Isolation: a user's private image is a 404 for everyone else on every route (never a
403, never the bytes), anonymous callers get the 401 challenge where a route needs a
login, and no listing ever shows another user's private image. DELETE takes the blob
out of the bucket (checked behind the service's back with boto3).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from types_boto3_s3 import S3Client

from core.settings import Settings
from tests.e2e.test_public_images import assert_error
from tests.support.auth import basic
from tests.support.openai_server import FakeImagesAPI

pytestmark = pytest.mark.e2e

MakeUser = Callable[..., tuple[str, str]]
Auth = dict[str, str]


def auth(user: tuple[str, str]) -> Auth:
    return {"Authorization": basic(*user)}


def create(client: TestClient, path: str, headers: Auth | None = None) -> dict[str, Any]:
    body = {"prompt": f"a cat on a mat {uuid.uuid4().hex[:6]}", "tags": ["cat"]}
    response = client.post(path, json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def blob_exists(s3: S3Client, settings: Settings, guid: str) -> bool:
    try:
        s3.head_object(Bucket=str(settings.s3_bucket), Key=f"images/{guid}.png")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False
    return True


def listed(client: TestClient, path: str, headers: Auth | None = None, **params: str) -> set[str]:
    response = client.get(path, params={"limit": "200", **params}, headers=headers or {})
    assert response.status_code == 200, response.text
    return {item["guid"] for item in response.json()}


ROUTES = [
    ("GET", "/image/{guid}"),
    ("GET", "/image/{guid}/content"),
    ("HEAD", "/image/{guid}/content"),
    ("DELETE", "/image/{guid}"),
    ("GET", "/private/image/{guid}"),
    ("GET", "/private/image/{guid}/content"),
    ("HEAD", "/private/image/{guid}/content"),
    ("DELETE", "/private/image/{guid}"),
]
NEEDS_LOGIN = {"/private/image/{guid}", "/private/image/{guid}/content"}


def test_a_private_create_is_owned_by_the_caller_and_served_only_to_them(
    client: TestClient, make_user: MakeUser
) -> None:
    alice = make_user("alice")
    response = client.post("/private/image", json={"prompt": "my cat"}, headers=auth(alice))
    assert response.status_code == 201
    detail = response.json()
    assert response.headers["location"] == f"/private/image/{detail['guid']}"
    assert (detail["private"], detail["author"]) == (True, alice[0])
    assert client.get(f"/private/image/{detail['guid']}", headers=auth(alice)).json() == detail
    content = client.get(f"/private/image/{detail['guid']}/content", headers=auth(alice))
    assert content.status_code == 200
    assert hashlib.sha256(content.content).hexdigest() == detail["sha256"]
    assert content.headers["cache-control"] == "private, max-age=0, must-revalidate"


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_nobody_but_the_owner_learns_that_a_private_image_exists(
    client: TestClient, make_user: MakeUser, method: str, route: str
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    mine = create(client, "/private/image", auth(alice))
    path = route.format(guid=mine["guid"])
    anonymous = client.request(method, path)
    if route in NEEDS_LOGIN or method == "DELETE":
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == 'Basic realm="pixyproxy"'
    else:
        assert anonymous.status_code == 404
    other = client.request(method, path, headers=auth(bob))
    assert other.status_code == 404
    for response in (anonymous, other):
        assert mine["sha256"] not in response.text and mine["prompt"] not in response.text
        assert response.headers.get("content-type", "").startswith("application/json") or (
            method == "HEAD"
        )
    if route.startswith("/image"):  # the public scope hides it from its owner too
        assert client.request(method, path, headers=auth(alice)).status_code == 404
    assert client.get(f"/private/image/{mine['guid']}", headers=auth(alice)).status_code == 200


def test_no_listing_shows_another_users_private_images(
    client: TestClient, make_user: MakeUser
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_private = {create(client, "/private/image", auth(alice))["guid"] for _ in range(2)}
    bob_private = {create(client, "/private/image", auth(bob))["guid"]}
    alice_public = {create(client, "/image", auth(alice))["guid"]}
    anonymous_public = {create(client, "/image")["guid"]}
    public = alice_public | anonymous_public

    assert listed(client, "/image") == public
    assert listed(client, "/image", auth(bob)) == public
    assert listed(client, "/image", auth(alice)) == public
    assert listed(client, "/image", author=alice[0]) == alice_public
    assert listed(client, "/image", auth(bob), author=alice[0], tag="cat") == alice_public
    assert listed(client, "/private/image", auth(alice)) == alice_private
    assert listed(client, "/private/image", auth(bob)) == bob_private
    assert listed(client, "/private/image", auth(bob), author=alice[0]) == set()
    assert client.get("/private/image").status_code == 401


def test_a_public_create_with_credentials_names_the_author_and_wrong_ones_are_401(
    client: TestClient, make_user: MakeUser, openai_api: FakeImagesAPI
) -> None:
    alice = make_user("alice")
    detail = create(client, "/image", auth(alice))
    assert (detail["author"], detail["private"]) == (alice[0], False)
    assert create(client, "/image")["author"] is None
    calls = len(openai_api.calls)
    wrong = client.post("/image", json={"prompt": "x"}, headers=auth((alice[0], "nope")))
    assert_error(wrong, 401, "authentication")
    assert len(openai_api.calls) == calls


def test_deleting_a_private_image_removes_row_and_blob(
    client: TestClient,
    make_user: MakeUser,
    s3_client: S3Client,
    e2e_settings: Settings,
) -> None:
    alice = make_user("alice")
    mine = create(client, "/private/image", auth(alice))
    assert blob_exists(s3_client, e2e_settings, mine["guid"])
    response = client.delete(f"/private/image/{mine['guid']}", headers=auth(alice))
    assert response.status_code == 204 and response.content == b""
    assert not blob_exists(s3_client, e2e_settings, mine["guid"])
    gone = client.get(f"/private/image/{mine['guid']}", headers=auth(alice))
    assert_error(gone, 404, "record_not_found")
    again = client.delete(f"/private/image/{mine['guid']}", headers=auth(alice))
    assert_error(again, 404, "record_not_found")


def test_only_the_author_deletes_a_public_image_and_its_blob_goes_with_it(
    client: TestClient,
    make_user: MakeUser,
    s3_client: S3Client,
    e2e_settings: Settings,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    theirs = create(client, "/image", auth(alice))
    path = f"/image/{theirs['guid']}"
    assert_error(client.delete(path), 401, "authentication")
    assert_error(client.delete(path, headers=auth(bob)), 404, "record_not_found")
    assert_error(  # a public image is not in its author's private scope
        client.delete(f"/private{path}", headers=auth(alice)), 404, "record_not_found"
    )
    assert blob_exists(s3_client, e2e_settings, theirs["guid"])
    assert client.delete(path, headers=auth(alice)).status_code == 204
    assert not blob_exists(s3_client, e2e_settings, theirs["guid"])
    assert_error(client.get(path), 404, "record_not_found")


def test_an_anonymous_image_can_be_deleted_by_nobody(
    client: TestClient, make_user: MakeUser, s3_client: S3Client, e2e_settings: Settings
) -> None:
    alice = make_user("alice")
    orphan = create(client, "/image")
    assert_error(
        client.delete(f"/image/{orphan['guid']}", headers=auth(alice)), 404, "record_not_found"
    )
    assert blob_exists(s3_client, e2e_settings, orphan["guid"])


def test_openapi_documents_basic_auth_on_the_private_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBasic"]["scheme"] == "basic"
    for method in ("get", "post"):
        operation = spec["paths"]["/private/image"][method]
        assert {"HTTPBasic": []} in operation["security"]
        assert "401" in operation["responses"]
    assert "429" in spec["paths"]["/image"]["post"]["responses"]

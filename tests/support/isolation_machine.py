"""A hypothesis state machine: random users create, list, fetch and delete images.

Three users and the anonymous caller act on public and private images over HTTP. A
small model (guid → owner, private, sha256, alive) predicts every status code and
every listing exactly, and after every response the machine checks the one property
that matters most: no response shows a private image (its guid, its prompt, its
hash or its bytes) to anyone but its owner, and only on the private routes.

:func:`isolation_machine` binds the machine to a client and three users; the tests
in ``tests/unit`` (in-memory fakes) and ``tests/e2e`` (MySQL) run it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from tests.support.auth import basic

Actor = int | None  # index into the users, None: anonymous
ACTORS = st.sampled_from([None, 0, 1, 2])
FETCH_ROUTES = [
    "/image/{guid}",
    "/image/{guid}/content",
    "/private/image/{guid}",
    "/private/image/{guid}/content",
]


@dataclass
class ModelImage:
    """What the model knows of one created image."""

    guid: str
    owner: str | None
    private: bool
    prompt: str
    sha256: str
    alive: bool = True


def isolation_machine(
    client: TestClient, users: list[tuple[str, str]], reset: Callable[[], None]
) -> type[RuleBasedStateMachine]:
    """The machine class for ``client``; ``reset`` empties the images before each run."""

    class IsolationMachine(RuleBasedStateMachine):
        """Random traffic checked against the model (see the module docstring)."""

        guids = Bundle("guids")

        def __init__(self) -> None:
            super().__init__()
            reset()
            self.images: dict[str, ModelImage] = {}

        # -- helpers ------------------------------------------------------------------

        def name(self, actor: Actor) -> str | None:
            return None if actor is None else users[actor][0]

        def request(self, method: str, path: str, actor: Actor, **kwargs: Any) -> Any:
            headers = {} if actor is None else {"Authorization": basic(*users[actor])}
            response = client.request(method, path, headers=headers, **kwargs)
            self.check_no_leak(response, actor, private_route=path.startswith("/private"))
            return response

        def check_no_leak(self, response: Any, actor: Actor, *, private_route: bool) -> None:
            """No private image of another user (or on a public route) in the response."""
            for image in self.images.values():
                if not image.private:
                    continue
                if private_route and image.owner == self.name(actor):
                    continue
                for secret in (image.guid, image.prompt, image.sha256):
                    assert secret not in response.text, (image, response.text)
                assert hashlib.sha256(response.content).hexdigest() != image.sha256

        def visible(self, guid: str, actor: Actor, *, private_route: bool) -> bool:
            image = self.images.get(guid)
            if image is None or not image.alive:
                return False
            if private_route:
                return image.private and image.owner == self.name(actor)
            return not image.private

        # -- rules --------------------------------------------------------------------

        @rule(target=guids, actor=ACTORS, private=st.booleans())
        def create(self, actor: Actor, private: bool) -> Any:
            prompt = f"prompt {uuid.uuid4().hex}"
            path = "/private/image" if private else "/image"
            response = self.request("POST", path, actor, json={"prompt": prompt})
            if private and actor is None:
                assert response.status_code == 401
                return multiple()
            assert response.status_code == 201, response.text
            detail = response.json()
            assert (detail["private"], detail["author"]) == (private, self.name(actor))
            self.images[detail["guid"]] = ModelImage(
                detail["guid"], self.name(actor), private, prompt, detail["sha256"]
            )
            return detail["guid"]

        @rule(actor=ACTORS, guid=guids, route=st.sampled_from(FETCH_ROUTES))
        def fetch(self, actor: Actor, guid: str, route: str) -> None:
            private_route = route.startswith("/private")
            response = self.request("GET", route.format(guid=guid), actor)
            if private_route and actor is None:
                assert response.status_code == 401
            elif self.visible(guid, actor, private_route=private_route):
                assert response.status_code == 200, response.text
                if route.endswith("/content"):
                    digest = hashlib.sha256(response.content).hexdigest()
                    assert digest == self.images[guid].sha256
                else:
                    assert response.json()["guid"] == guid
            else:
                assert response.status_code == 404, response.text

        @rule(actor=ACTORS, route=st.sampled_from(FETCH_ROUTES))
        def fetch_unknown(self, actor: Actor, route: str) -> None:
            response = self.request("GET", route.format(guid=uuid.uuid4()), actor)
            assert response.status_code == (401 if actor is None and "private" in route else 404)

        @rule(actor=ACTORS, private=st.booleans(), by_author=st.booleans())
        def list_images(self, actor: Actor, private: bool, by_author: bool) -> None:
            params = {"limit": "200"}
            author = users[0][0]
            if by_author:
                params["author"] = author
            response = self.request(
                "GET", "/private/image" if private else "/image", actor, params=params
            )
            if private and actor is None:
                assert response.status_code == 401
                return
            assert response.status_code == 200, response.text
            expected = {
                image.guid
                for image in self.images.values()
                if self.visible(image.guid, actor, private_route=private)
                and (not by_author or image.owner == author)
            }
            assert {item["guid"] for item in response.json()} == expected

        @rule(actor=ACTORS, guid=guids, private=st.booleans())
        def delete(self, actor: Actor, guid: str, private: bool) -> None:
            path = f"/private/image/{guid}" if private else f"/image/{guid}"
            response = self.request("DELETE", path, actor)
            image = self.images[guid]
            if actor is None:
                assert response.status_code == 401
            elif self.visible(guid, actor, private_route=private) and image.owner == self.name(
                actor
            ):
                assert response.status_code == 204, response.text
                image.alive = False
            else:
                assert response.status_code == 404, response.text

        @invariant()
        def owners_list_exactly_their_private_images(self) -> None:
            for index in range(len(users)):
                response = self.request("GET", "/private/image", index, params={"limit": "200"})
                expected = {
                    image.guid
                    for image in self.images.values()
                    if image.alive and image.private and image.owner == users[index][0]
                }
                assert {item["guid"] for item in response.json()} == expected

    return IsolationMachine

"""Detail reads under concurrency (they are answered in batches: web/detail_reads.py).

Real uvicorn, MariaDB and moto: 32 clients read public and private images, unknown guids
and other people's images at the same time; every answer is the one the same request
gets on its own, so a batch never hands anyone a row of another scope.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from core.models import ImageDetailCreate
from core.settings import Settings
from service.generation.offline import OfflineImageGenerator
from service.init import Services, build_services
from tests.e2e.test_pool_behaviour import stack_settings
from tests.support.live_server import LiveServer
from web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.mysql, pytest.mark.s3]

CLIENTS = 32
Ask = tuple[str, tuple[str, str] | None]  # a path, and the Basic credentials to send


@pytest.fixture
def stack(mysql_settings: Settings, s3_settings: Settings, mysql_clean: None) -> Iterator[Services]:
    """Services on MySQL and moto with the default pool and small offline images."""
    settings = stack_settings(mysql_settings, s3_settings)
    services = build_services(settings, generator=OfflineImageGenerator(size=16))
    yield services
    services.close()


def test_concurrent_detail_reads_each_get_the_answer_they_get_alone(stack: Services) -> None:
    users = {name: (name, f"{name}-password-{uuid.uuid4().hex[:6]}") for name in ("alice", "bob")}
    for username, password in users.values():
        stack.users.add_user(username, password)
    public = [
        stack.public().create_image(ImageDetailCreate(prompt=f"fox {n}", tags=[f"t{n}"]))
        for n in range(6)
    ]
    owned = {
        name: [
            stack.private(name).create_image(ImageDetailCreate(prompt=f"{name}'s {n}"))
            for n in range(2)
        ]
        for name in users
    }
    asks: list[Ask] = [(f"/image/{image.guid}", None) for image in public]
    asks += [(f"/image/{uuid.uuid4()}", None), (f"/image/{owned['alice'][0].guid}", None)]
    for name, credentials in users.items():
        other = "bob" if name == "alice" else "alice"
        asks += [(f"/private/image/{image.guid}", credentials) for image in owned[name]]
        asks += [
            (f"/private/image/{owned[other][0].guid}", credentials),
            (f"/private/image/{public[0].guid}", credentials),
        ]

    with LiveServer(create_app(services=stack)) as server:
        with httpx.Client(base_url=server.url) as client:
            alone = {ask: _answer(client, ask) for ask in asks}

        def one_client(seed: int) -> list[tuple[Ask, tuple[int, object]]]:
            rng = random.Random(seed)
            # Mostly public reads (each private one checks a password), all of them mixed.
            mine = [ask for ask in asks if ask[1] is None] * 6 + [a for a in asks if a[1]]
            rng.shuffle(mine)
            with httpx.Client(base_url=server.url, timeout=30.0) as client:
                return [(ask, _answer(client, ask)) for ask in mine]

        with ThreadPoolExecutor(CLIENTS) as pool:
            together = [pair for pairs in pool.map(one_client, range(CLIENTS)) for pair in pairs]

    assert sorted({status for status, _ in alone.values()}) == [200, 404]
    assert [alone[(f"/image/{image.guid}", None)][1] for image in public] == [
        image.model_dump(mode="json") for image in public
    ]
    wrong = [(ask, answer) for ask, answer in together if answer != alone[ask]]
    assert wrong == []
    assert len(together) == CLIENTS * (8 * 6 + 8)


def _answer(client: httpx.Client, ask: Ask) -> tuple[int, object]:
    """The status and the body (without the error's request id) of one GET."""
    path, credentials = ask
    response = client.get(path, auth=credentials)
    body = response.json()
    if response.status_code != 200:
        body.pop("request_id", None)
    return response.status_code, body

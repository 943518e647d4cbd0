"""Take the README's screenshot of the gallery: ``python -m tests.browser.screenshot [PATH]``.

Seeds a fresh app (SQLite, local blobs, offline generator) with a dozen images, serves
it, and saves a desktop screenshot of ``/`` once every thumbnail has loaded.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.gallery_app import build_gallery_services, seed
from tests.support.live_server import LiveServer
from web.app import create_app

PROMPTS = [
    ("a red fox asleep in fresh snow at dawn", ["fox", "winter"]),
    ("lighthouse on a cliff at dusk, oil painting", ["sea"]),
    ("a tiny robot watering a bonsai tree", ["robot"]),
    ("neon city street in the rain, cinematic", ["city", "night"]),
    ("isometric cozy library with a sleeping cat", ["cat"]),
    ("a steaming bowl of ramen, studio photo", ["food"]),
    ("mountain lake at sunrise with low mist", ["landscape"]),
    ("paper-cut hot air balloons over hills", ["papercraft"]),
    ("an astronaut reading in a hammock on the moon", ["space"]),
    ("koi pond seen from above, watercolour", ["watercolour"]),
    ("a hand-drawn map of an imaginary island", ["map"]),
    ("a vintage bicycle against a yellow wall", ["street"]),
]


def take(path: Path, *, width: int = 1200) -> None:
    """Serve a seeded gallery and save a full-page screenshot of ``/`` to ``path``."""
    with tempfile.TemporaryDirectory() as root:
        app = build_gallery_services(Path(root))
        seed(app.services, PROMPTS)
        with LiveServer(create_app(services=app.services)) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme="dark")
            page.goto(server.url + "/")
            page.locator("#grid img").evaluate_all("imgs => Promise.all(imgs.map(i => i.decode()))")
            prompt = page.get_by_role("textbox", name="Prompt")
            prompt.fill("a lantern festival over a quiet river")
            prompt.blur()
            page.mouse.move(0, 0)
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True)
            browser.close()
        app.services.close()


if __name__ == "__main__":
    take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/gallery.png"))

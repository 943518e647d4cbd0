"""What renditions cost a create: ``python -m bench.renditions_bench [--count N]``.

Times ``create_image`` in-process (embedded SQLite, local blob folder, offline generator
drawing 1024x1024 PNGs) three ways, interleaved to even out a busy machine: without
renditions, with them made inline right after the commit (``RENDITION_WORKERS=0``), and
with them in the background pool (``RENDITION_WORKERS=1``, the default). Prints the
median latency and the rate of each, and each against "none".
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from core.models import ImageDetailCreate
from core.settings import Settings
from service.init import build_services
from service.renditions import Renditions

MODES = ("none", "inline", "pool")


class NoRenditions(Renditions):
    """Makes none (the baseline)."""

    def after_commit(self, image_id: int, guid: str, data: bytes) -> None:
        return


def run(mode: str, count: int) -> tuple[float, float]:
    """Median ms per create and creates per second for ``mode``."""
    folder = Path(tempfile.mkdtemp(prefix="pixy-renditions-bench-"))
    settings = Settings(
        _env_file=None,
        sqlite_path=folder / "pixy.db",
        blob_dir=folder / "blobs",
        rendition_workers=0 if mode == "inline" else 1,
    )
    services = build_services(settings)
    if mode == "none":
        baseline = NoRenditions(services.backends.database, services.backends.blobs, workers=0)
        object.__setattr__(services.backends, "renditions", baseline)
    public = services.public()
    public.create_image(ImageDetailCreate(prompt="warm-up"))
    times = []
    started = time.perf_counter()
    for n in range(count):
        begin = time.perf_counter()
        public.create_image(ImageDetailCreate(prompt=f"a red fox {mode} {n}"))
        times.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    services.close()
    return statistics.median(times) * 1000, count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=15, help="creates per mode and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    for _ in range(args.rounds):
        for mode in MODES:
            results[mode].append(run(mode, args.count))
    base_p50 = statistics.median(p50 for p50, _ in results["none"])
    for mode in MODES:
        p50 = statistics.median(p50 for p50, _ in results[mode])
        rate = statistics.median(rate for _, rate in results[mode])
        print(f"{mode:6s}  p50 {p50:7.1f} ms  {rate:5.2f} creates/s  {p50 / base_p50:5.2f}x none")


if __name__ == "__main__":
    main()

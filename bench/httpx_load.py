"""A small async load client, used when ``wrk`` is not installed.

``N`` connections each send requests back to back for ``duration`` seconds; prints one
JSON object (the fields of ``bench.load.LoadResult``). Run as its own process, so the
client never shares a core's interpreter with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from urllib.parse import urljoin

import httpx


async def _worker(  # noqa: PLR0917 - one worker's whole state
    client: httpx.AsyncClient,
    args: argparse.Namespace,
    deadline: float,
    counter: itertools.count[int],
    latencies: list[float],
    errors: list[int],
) -> None:
    while time.perf_counter() < deadline:
        content = None
        n = next(counter)
        if args.body is not None:
            content = args.body.replace("{n}", str(n)).encode()
        url = urljoin(args.url, args.path[n % len(args.path)]) if args.path else args.url
        began = time.perf_counter()
        try:
            response = await client.request(
                args.method,
                url,
                content=content,
                headers={"content-type": "application/json"} if content else None,
            )
            await response.aread()
            if response.status_code >= 400:
                errors.append(response.status_code)
        except httpx.HTTPError:
            errors.append(0)
        latencies.append((time.perf_counter() - began) * 1000)


async def run(args: argparse.Namespace) -> dict[str, float | int]:
    """Drive the load; return requests, rps, p50_ms, p99_ms and errors."""
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=None)
    latencies: list[float] = []
    errors: list[int] = []
    counter = itertools.count()
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        began = time.perf_counter()
        deadline = began + args.duration
        await asyncio.gather(
            *(
                _worker(client, args, deadline, counter, latencies, errors)
                for _ in range(args.connections)
            )
        )
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49],
        "p99_ms": cuts[98],
        "errors": len(errors),
    }


def main() -> None:
    """Parse the arguments, run, print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body")
    parser.add_argument("--path", action="append", help="request these paths in turn")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()

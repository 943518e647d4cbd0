"""Drive load from a separate process: ``wrk`` when installed, else a small async client.

Both report the same ``LoadResult``; one run of the benchmark uses one client for every
scenario and ceiling, so the ratios compare like with like.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class LoadSpec:
    """One measurement: what to request, how hard and for how long."""

    url: str
    method: str = "GET"
    body: str | None = None  # JSON; for POST, ``{n}`` is replaced by a request counter
    connections: int = 16
    duration: float = 10.0
    paths: tuple[str, ...] = ()  # if any: each request takes the next (on ``url``'s host)


@dataclass(frozen=True)
class LoadResult:
    """What one measurement gives: throughput, latency percentiles and failures."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors


def client_name() -> str:
    """``wrk`` when it is on the PATH, else ``httpx``."""
    return "wrk" if shutil.which("wrk") else "httpx"


def run_load(spec: LoadSpec, client: str | None = None) -> LoadResult:
    """Run ``spec`` with ``client`` (default: :func:`client_name`)."""
    if (client or client_name()) == "wrk":
        return _run_wrk(spec)
    return _run_httpx(spec)


def _wrk_script(spec: LoadSpec, folder: Path) -> Path:
    """A wrk Lua script that sends ``spec``'s method and body (with a counter), on each
    of ``spec.paths`` in turn if it has any."""
    body = json.dumps(spec.body or "")
    paths = ", ".join(json.dumps(path) for path in spec.paths)
    script = folder / "request.lua"
    script.write_text(
        "local n = 0\n"
        f"local paths = {{{paths}}}\n"
        f'wrk.method = "{spec.method}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local template = {body}\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  local path = nil\n"
        "  if #paths > 0 then path = paths[(n % #paths) + 1] end\n"
        "  local tag = tostring(n) .. '-' .. tostring(math.random(1e9))\n"
        '  local body = string.gsub(template, "{n}", tag)\n'
        "  return wrk.format(nil, path, nil, body)\n"
        "end\n"
    )
    return script


def _ms(text: str) -> float:
    """``'1.23ms'`` → 1.23."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Read requests/s, p50, p99 and errors from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if non_2xx := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(non_2xx.group(1))
    if socket_errors := re.search(r"Socket errors: (.+)", output):
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(requests=requests, rps=rps, p50_ms=p50, p99_ms=p99, errors=errors)


def _run_wrk(spec: LoadSpec) -> LoadResult:
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "wrk",
            "--latency",
            "-t1",
            f"-c{spec.connections}",
            f"-d{math.ceil(spec.duration)}s",  # wrk takes whole seconds only
            "--timeout",
            "10s",
        ]
        if spec.method != "GET" or spec.body is not None or spec.paths:
            command += ["-s", str(_wrk_script(spec, Path(folder)))]
        done = subprocess.run(
            [*command, spec.url], capture_output=True, text=True, check=True, timeout=600
        )
    return parse_wrk(done.stdout)


def _run_httpx(spec: LoadSpec) -> LoadResult:
    command = [
        sys.executable,
        "-m",
        "bench.httpx_load",
        "--url",
        spec.url,
        "--method",
        spec.method,
        "--connections",
        str(spec.connections),
        "--duration",
        str(spec.duration),
    ]
    if spec.body is not None:
        command += ["--body", spec.body]
    for path in spec.paths:
        command += ["--path", path]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    return LoadResult(**json.loads(done.stdout))

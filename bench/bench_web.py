"""Web page-load benchmark: the assessment result page over real HTTP on loopback.

Starts the server (uvicorn, one worker, temporary SQLite) in a child process, then times POST
/assess end to end as a browser sees it (form parsing, assessment, the 303 post/redirect/get hop,
Jinja2 render, transfer) for several hundred requests, next to a trivial page (GET /login) as
the peer. Target: result page p50 < 300 ms.
Run: .venv/bin/python bench/bench_web.py [--requests 400]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

FORM = {
    "action": "assess", "age": "54", "sex": "female", "setting": "primary", "duration_weeks": "3",
    "area__anterior_thigh_pain": "left", "area__sensory_loss_anterior_thigh": "left",
    "mrc__knee_extension_weakness__left": "4", "reflex__patellar_reflex_reduced__left": "absent",
    "femoral__left": "positive", "slr__right": "negative",
    "meds": "naproxen 500 mg bd\nibuprofen 400 mg tds",
    "imaging_report": "L3-L4: moderate left neural foraminal narrowing. Mild disc bulge. "
    "No canal stenosis. L4-L5: no disc herniation.",
}  # fmt: skip
SERVER = """
import sys, uvicorn
from spineguide.api.app import create_app
from spineguide.api.settings import Settings
app = create_app(Settings(database_url=sys.argv[1], cookie_secure=False,
                          assess_rate=(1e6, 1e6), login_rate=(1e6, 1e6)))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(client: httpx.Client, n: int, method: str, path: str, **kw: object) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.request(method, path, **kw)  # type: ignore[arg-type]
        _ = r.content
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{method} {path} answered {r.status_code}")
    return out


def main() -> None:
    """Start the server, warm up, time both pages, print p50/p95 and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=400)
    args = ap.parse_args()
    port = _port()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if client.get("/login").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("server did not start")
                    time.sleep(0.1)
                _time(client, 20, "POST", "/assess", data=FORM)  # warm-up
                _time(client, 20, "GET", "/login")
                page = client.post("/assess", data=FORM).text
                result = _time(client, args.requests, "POST", "/assess", data=FORM)
                peer = _time(client, args.requests, "GET", "/login")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    p50, p95 = _pct(result, 0.5), _pct(result, 0.95)
    q50, q95 = _pct(peer, 0.5), _pct(peer, 0.95)
    print(f"web bench: {args.requests} requests each, loopback, one uvicorn worker")
    print(f"  assessment result page (POST /assess, {len(page) // 1024} KiB HTML): "
          f"p50 {p50:.1f} ms  p95 {p95:.1f} ms  mean {statistics.fmean(result):.1f} ms")  # fmt: skip
    print(f"  peer: trivial page (GET /login):  p50 {q50:.1f} ms  p95 {q95:.1f} ms")
    print(f"  ratio result/peer p50: {p50 / q50:.1f}x   target p50 < 300 ms: "
          f"{'PASS' if p50 < 300 else 'FAIL'} [peer: GET /login on the same server, same "
          f"connection pool, same run; load average {os.getloadavg()[0]:.1f}]")  # fmt: skip


if __name__ == "__main__":
    main()

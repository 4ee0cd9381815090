"""Helpers shared by the web tests: sample texts, test settings, accounts, a live server."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CLINICIAN = ("dr-web", "correct horse battery")
REPORT = (
    "MRI LUMBAR SPINE\nFINDINGS:\nL3-L4: Mild diffuse disc bulge. Moderate bilateral neural "
    "foraminal narrowing. No spinal canal stenosis.\nL4-L5: Left paracentral disc protrusion "
    "contacting the traversing left L5 nerve root.\nL5-S1: No disc herniation.\n"
    "IMPRESSION: Degenerative change, most marked at L3-L4."
)
NOTE = (
    "54F, 3 weeks of left anterior thigh pain after lifting, weak knee extension 4/5 on the left, "
    "absent left knee jerk, positive femoral stretch on the left, no saddle numbness."
)


def make_settings(url: str) -> Any:
    """Test settings: plain-http cookies and generous rate limits."""
    from spineguide.api.settings import Settings

    return Settings(
        database_url=url,
        cookie_secure=False,
        login_rate=(1000.0, 1000.0),
        assess_rate=(10_000.0, 10_000.0),
    )


def add_user(app: Any, username: str, password: str, role: str = "clinician") -> None:
    """Create an account directly in the database."""
    from spineguide.api.security import hash_password
    from spineguide.store import repository as repo

    with app.state.sg.sessions.begin() as s:
        repo.create_user(s, username, hash_password(password), role=role)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a daemon thread."""

    def __init__(self, application: Any) -> None:
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            application, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def login(client: Any, username: str, password: str, nxt: str | None = None) -> Any:
    """Sign in the way a browser does: load the form (cookie + token), then post it."""
    import re

    page = client.get("/login" + (f"?next={nxt}" if nxt else ""))
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    data = {"username": username, "password": password, "login_csrf": token}
    if nxt:
        data["next"] = nxt
    return client.post("/login", data=data)


def follow(client: Any, response: Any) -> Any:
    """GET the page a 303 points to (post/redirect/get)."""
    assert response.status_code == 303, response.text[:300]
    return client.get(response.headers["location"])


# A typical three-level degenerative report (own wording): the explainer must stay short.
REPORT_3 = (
    "MRI LUMBAR SPINE WITHOUT CONTRAST\nFINDINGS:\nAlignment is normal. Conus ends at L1.\n"
    "L3-L4: Mild disc bulge with mild facet arthropathy. No significant canal or foraminal "
    "narrowing.\nL4-L5: Broad-based disc bulge with a superimposed right paracentral protrusion "
    "contacting the descending right L5 nerve root. Mild right lateral recess narrowing. Mild "
    "bilateral foraminal narrowing.\nL5-S1: Disc desiccation and mild loss of disc height. Small "
    "central disc protrusion without nerve root contact. Moderate left foraminal narrowing.\n"
    "IMPRESSION:\n1. Right paracentral protrusion at L4-L5 contacting the right L5 nerve root.\n"
    "2. Moderate left foraminal narrowing at L5-S1.\n3. Mild degenerative change at L3-L4."
)

"""Accounts: logout revokes the bearer token, the users CLI, the password policy, per-account
lockout with audit, shared login limits, X-Forwarded-For only from trusted proxies, login CSRF."""

from __future__ import annotations

from api_helpers import assert_problem
from sqlalchemy import select
from typer.testing import CliRunner

from spineguide.store.models import AuditEntry

TOKEN = "/api/v1/auth/token"


def _login(client, username: str, password: str, **kw):
    return client.post(TOKEN, json={"username": username, "password": password}, **kw)


def test_logout_revokes_the_bearer_token(client, token_for) -> None:
    headers = token_for("dr-logout")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    body = assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)
    assert "revoked" in body["detail"]
    assert_problem(client.get("/api/v1/patients", headers=headers), 401)


def test_account_lockout_after_repeated_failures(make_app, new_client, db_url) -> None:
    from spineguide.api.security import hash_password
    from spineguide.store import repository as repo

    app = make_app(lockout_failures=3, lockout_seconds=600)
    with app.state.sg.sessions.begin() as s:
        repo.create_user(s, "dr-target", hash_password("the right long passphrase"))
    with new_client(app) as c:
        codes = [_login(c, "dr-target", f"guess-number-{i}").status_code for i in range(3)]
        assert codes == [401, 401, 401]
        # locked now: even the right password is refused until the lock expires
        r = _login(c, "dr-target", "the right long passphrase")
        body = assert_problem(r, 429)
        assert "locked" in body["detail"] and int(r.headers["retry-after"]) > 500
        # unknown accounts lock the same way (no account enumeration)
        codes = [_login(c, "nobody-here", f"guess-{i}").status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
    with app.state.sg.sessions() as s:
        actions = [(a.action, a.outcome, a.username) for a in s.scalars(select(AuditEntry))]
    assert ("auth.lockout", "locked", "dr-target") in actions
    assert ("auth.login", "locked", "dr-target") in actions
    # an administrator's password reset clears the lock
    runner = CliRunner()
    from spineguide.cli import app as cli

    r = runner.invoke(
        cli,
        ["users", "reset-password", "dr-target", "--password", "a brand new passphrase",
         "--database-url", db_url],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    with new_client(app) as c:
        assert _login(c, "dr-target", "a brand new passphrase").status_code == 200


def test_login_limit_is_shared_between_workers(make_app, new_client) -> None:
    first = make_app(login_rate=(3.0, 3.0 / 3600.0))
    second = make_app(login_rate=(3.0, 3.0 / 3600.0))
    with new_client(first) as a, new_client(second) as b:
        codes = [_login(c, "someone", "wrong password here").status_code for c in (a, b, a, b, a)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(make_app, new_client):
    untrusted = make_app(login_rate=(2.0, 2.0 / 3600.0))
    with new_client(untrusted, client=("127.0.0.1", 40000)) as c:
        codes = [
            _login(
                c, "x", "wrong password here", headers={"X-Forwarded-For": f"10.0.0.{i}"}
            ).status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 429, 429]  # rotating the header does not reset the limit
    with untrusted.state.sg.sessions() as s:
        clients = {a.client for a in s.scalars(select(AuditEntry))}
    assert clients == {"127.0.0.1"}  # and it is not what the audit records
    behind_proxy = make_app(login_rate=(2.0, 2.0 / 3600.0), trusted_proxies=["127.0.0.1/32"])
    with new_client(behind_proxy, client=("127.0.0.1", 40000)) as c:
        r = _login(c, "y", "wrong password here", headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 401
    with behind_proxy.state.sg.sessions() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")))
    assert rows[-1].client == "203.0.113.9"


def test_cross_origin_login_is_refused(client, create_user) -> None:
    create_user("dr-origin", "an origin test passphrase")
    creds = {"username": "dr-origin", "password": "an origin test passphrase"}
    evil = {"Origin": "https://evil.example"}
    body = assert_problem(client.post("/api/v1/auth/session", json=creds, headers=evil), 403)
    assert "origin" in body["detail"]
    assert "sg_session" not in client.cookies
    assert_problem(client.post(TOKEN, json=creds, headers=evil), 403)
    same = {"Origin": "http://testserver"}
    assert client.post("/api/v1/auth/session", json=creds, headers=same).status_code == 200
    assert client.post(TOKEN, json=creds).status_code == 200  # non-browser clients send no Origin


def test_password_policy() -> None:
    from spineguide.api.passwords import common_passwords, password_problems

    assert len(common_passwords()) > 200
    for bad in ("short", "password2026!", "Qwertyuiop123", "aaaaaaaaaaaaaaa", "123456789012345"):
        assert password_problems(bad, "alice"), bad
    assert password_problems("alice-is-my-long-password", "alice")
    assert password_problems("violet tractor under rain") == []


def test_users_cli_list_revoke_deactivate_reset(app, client, db_url) -> None:
    from spineguide.cli import app as cli

    runner = CliRunner()
    run = lambda *args: runner.invoke(cli, [*args, "--database-url", db_url])  # noqa: E731
    r = run("users", "create", "dr-cli", "--password", "password123")
    assert r.exit_code != 0 and "password refused" in r.output + (r.stderr or "")
    r = run("users", "create", "dr-cli", "--password", "walnut kettle orbit seven")
    assert r.exit_code == 0, r.output
    creds = {"username": "dr-cli", "password": "walnut kettle orbit seven"}
    token = client.post(TOKEN, json=creds).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert "tokens=1" in run("users", "list").output
    r = run("users", "revoke", "dr-cli")
    assert r.exit_code == 0 and "revoked 1 token" in r.output
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    token = client.post(TOKEN, json=creds).json()["access_token"]
    assert run("users", "deactivate", "dr-cli").exit_code == 0
    assert "deactivated" in run("users", "list").output
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert client.post(TOKEN, json=creds).status_code == 401
    r = run(
        "users", "reset-password", "dr-cli", "--password", "maple drum river canyon", "--activate"
    )
    assert r.exit_code == 0, r.output
    creds["password"] = "maple drum river canyon"
    assert client.post(TOKEN, json=creds).status_code == 200
    assert run("users", "revoke", "no-such-user").exit_code != 0
    with app.state.sg.sessions() as s:
        actions = {a.action for a in s.scalars(select(AuditEntry))}
    assert {"auth.revoke", "auth.deactivate", "auth.reset-password"} <= actions


def test_generated_passwords_never_reach_stdout(db_url, tmp_path, monkeypatch) -> None:
    from spineguide.cli import app as cli

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["users", "create", "dr-generated", "--database-url", db_url])
    assert r.exit_code == 0, r.output
    assert "password:" not in r.stdout
    # no terminal in the test runner: the secret went to a private file instead
    path = tmp_path / "var" / "demo-credentials.txt"
    if path.exists():
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert path.read_text().split(": ", 1)[1].strip() not in r.stdout


def test_old_failures_expire_and_the_lock_ends(make_app, new_client) -> None:
    import time

    from spineguide.api.security import hash_password
    from spineguide.store import repository as repo

    app = make_app(lockout_failures=3, lockout_seconds=3)
    with app.state.sg.sessions.begin() as s:
        repo.create_user(s, "dr-slow", hash_password("the right long passphrase"))
    with new_client(app) as c:
        assert [_login(c, "dr-slow", "wrong one here").status_code for _ in range(2)] == [401, 401]
        time.sleep(3.2)  # those failures are now outside the window
        assert [_login(c, "dr-slow", "wrong one here").status_code for _ in range(2)] == [401, 401]
        assert _login(c, "dr-slow", "wrong one here").status_code == 401  # third in window
        assert _login(c, "dr-slow", "the right long passphrase").status_code == 429
        time.sleep(3.2)
        assert _login(c, "dr-slow", "the right long passphrase").status_code == 200

"""`spineguide serve`, `spineguide db upgrade` and `spineguide users create|list|revoke|
deactivate|reset-password`.

Secrets are never written to a log: a generated password is shown on the terminal (stderr when
it is a terminal, else /dev/tty), or, with no terminal at all, written to a 0600 file whose path
is printed instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

DEMO_USERNAME = "demo-clinician"

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts (clinicians and admins).", no_args_is_help=True)

DbUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (default: SPINEGUIDE_DATABASE_URL or ./var/spineguide.sqlite3)",
    ),
]


def _engine(database_url: str | None):  # type: ignore[no-untyped-def]
    from spineguide.store import db

    return db.make_engine(database_url)


def upgrade_database(database_url: str | None = None) -> str:
    """Apply migrations; return a printable description of the database."""
    from spineguide.store import db

    engine = _engine(database_url)
    try:
        db.upgrade(engine)
        return f"{engine.url.render_as_string(hide_password=True)} at {db.current_revision(engine)}"
    finally:
        engine.dispose()


def ensure_user(
    database_url: str | None, username: str, password: str, role: str = "clinician"
) -> bool:
    """Create a user unless one with that name exists; True when created."""
    from spineguide.api.security import hash_password
    from spineguide.store import db
    from spineguide.store import repository as repo

    engine = _engine(database_url)
    try:
        factory = db.make_session_factory(engine)
        with factory.begin() as s:
            if repo.user_by_username(s, username) is not None:
                return False
            repo.create_user(s, username, hash_password(password), role=role)
            return True
    finally:
        engine.dispose()


def show_secret(label: str, secret: str, fallback_dir: Path | None = None) -> str:
    """Show a secret to the person at the terminal, never on stdout/log; return where it went."""
    if sys.stderr.isatty():
        print(f"{label}: {secret}", file=sys.stderr)
        return "terminal"
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(f"{label}: {secret}\n")
        return "terminal"
    except OSError:
        pass
    folder = fallback_dir or Path("var")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"{label}: {secret}\n")
    return str(path)


def _check_password(password: str, username: str) -> None:
    from spineguide.api.passwords import password_problems
    from spineguide.cli import fail

    min_length = int(os.environ.get("SPINEGUIDE_PASSWORD_MIN_LENGTH", "12"))
    problems = password_problems(password, username, min_length)
    if problems:
        fail("password refused: " + "; ".join(problems), "or omit --password to generate one")


def _user_sessions(database_url: str | None):  # type: ignore[no-untyped-def]
    from spineguide.store import db

    upgrade_database(database_url)
    engine = _engine(database_url)
    return engine, db.make_session_factory(engine)


def _audit_admin(s, user, action: str, detail: str | None = None) -> None:  # type: ignore[no-untyped-def]
    from spineguide.store import repository as repo

    repo.audit(s, user, action, "ok", client="cli", detail=detail)


@db_app.command("upgrade")
def db_upgrade(database_url: DbUrlOption = None) -> None:
    """Create or migrate the database schema to the newest revision."""
    typer.echo(f"database: {upgrade_database(database_url)}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="clinician or admin")] = "clinician",
    password: Annotated[
        str | None, typer.Option(help="password (default: generate one and print it)")
    ] = None,
    database_url: DbUrlOption = None,
) -> None:
    """Create a clinician or admin account (the password is stored as an argon2id hash)."""
    from spineguide.api.security import generate_password
    from spineguide.cli import fail

    if role not in ("clinician", "admin"):
        fail(f"unknown role {role!r}", "use --role clinician or --role admin")
    if not 1 <= len(username) <= 80 or "\x00" in username:
        fail("username must be 1-80 characters")
    if password is not None:
        _check_password(password, username)
    upgrade_database(database_url)
    generated = password is None
    password = password or generate_password()
    if not ensure_user(database_url, username, password, role):
        fail(f"user {username!r} already exists", "choose another username")
    typer.echo(f"created {role} {username!r}")
    if generated:
        where = show_secret(f"password for {username}", password)
        if where != "terminal":
            typer.echo(f"generated password written to {where} (mode 0600)")


@users_app.command("list")
def users_list(database_url: DbUrlOption = None) -> None:
    """List accounts: role, active or deactivated, and live bearer tokens."""
    from spineguide.store import repository as repo

    engine, sf = _user_sessions(database_url)
    try:
        with sf() as s:
            live = repo.live_token_counts(s)
            rows = repo.list_users(s)
            lines = [
                f"{u.username:<24} {u.role:<10} {'active' if u.active else 'deactivated':<12} "
                f"tokens={live.get(u.id, 0)}"
                for u in rows
            ]
    finally:
        engine.dispose()
    typer.echo("\n".join(lines) if lines else "no accounts (create one with `users create`)")


def _with_user(database_url: str | None, username: str, action):  # type: ignore[no-untyped-def]
    from spineguide.cli import fail
    from spineguide.store import repository as repo

    engine, sf = _user_sessions(database_url)
    try:
        with sf.begin() as s:
            user = repo.user_by_username(s, username)
            if user is None:
                fail(f"no user {username!r}", "see `spineguide users list`")
            return action(s, user)
    finally:
        engine.dispose()


@users_app.command("revoke")
def users_revoke(
    username: Annotated[str, typer.Argument(help="login name")],
    database_url: DbUrlOption = None,
) -> None:
    """Revoke every bearer token and end every browser session of an account."""
    from spineguide.store import repository as repo

    def act(s, user):  # type: ignore[no-untyped-def]
        tokens, sessions = repo.revoke_user_credentials(s, user.id)
        _audit_admin(s, user, "auth.revoke", f"tokens={tokens} sessions={sessions}")
        return tokens, sessions

    tokens, sessions = _with_user(database_url, username, act)
    typer.echo(f"revoked {tokens} token(s) and {sessions} session(s) of {username!r}")


@users_app.command("deactivate")
def users_deactivate(
    username: Annotated[str, typer.Argument(help="login name")],
    database_url: DbUrlOption = None,
) -> None:
    """Deactivate an account: it cannot sign in and its tokens and sessions stop working."""
    from spineguide.store import repository as repo

    def act(s, user):  # type: ignore[no-untyped-def]
        user.active = False
        repo.revoke_user_credentials(s, user.id)
        _audit_admin(s, user, "auth.deactivate")

    _with_user(database_url, username, act)
    typer.echo(f"deactivated {username!r}")


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[
        str | None, typer.Option(help="new password (default: generate one, shown on the terminal)")
    ] = None,
    activate: Annotated[bool, typer.Option(help="also re-activate the account")] = False,
    database_url: DbUrlOption = None,
) -> None:
    """Set a new password, revoke the account's tokens and sessions, and clear any lockout."""
    from spineguide.api.security import generate_password, hash_password
    from spineguide.store import repository as repo

    if password is not None:
        _check_password(password, username)
    new = password or generate_password()

    def act(s, user):  # type: ignore[no-untyped-def]
        user.password_hash = hash_password(new)
        if activate:
            user.active = True
        repo.revoke_user_credentials(s, user.id)
        repo.rate_clear(s, "login-fail:" + username.strip().lower()[:80])
        repo.rate_clear(s, "login-lock:" + username.strip().lower()[:80])
        _audit_admin(s, user, "auth.reset-password")

    _with_user(database_url, username, act)
    typer.echo(f"password of {username!r} reset; its tokens and sessions were revoked")
    if password is None:
        where = show_secret(f"new password for {username}", new)
        if where != "terminal":
            typer.echo(f"generated password written to {where} (mode 0600)")


def register(app: typer.Typer) -> None:
    """Add `serve`, `db` and `users` to the CLI."""
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = 8000,
        workers: Annotated[int, typer.Option(help="worker processes")] = 1,
        seed_demo: Annotated[
            bool, typer.Option("--seed-demo/--no-seed-demo", help="create a demo clinician")
        ] = True,
        database_url: DbUrlOption = None,
        insecure_cookies: Annotated[
            bool,
            typer.Option(help="send session cookies without Secure (plain-HTTP testing only)"),
        ] = False,
        log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
        trusted_proxies: Annotated[
            str | None,
            typer.Option(
                help="comma-separated proxy IPs/networks whose X-Forwarded-For is believed "
                "(default: none; SPINEGUIDE_TRUSTED_PROXIES)"
            ),
        ] = None,
    ) -> None:
        """Run the REST API, CDS Hooks service and web app (SQLite by default)."""
        import uvicorn

        from spineguide.api.security import generate_password

        if database_url:
            os.environ["SPINEGUIDE_DATABASE_URL"] = database_url
        typer.echo(f"database: {upgrade_database(database_url)}")
        if seed_demo:
            password = generate_password()
            if ensure_user(database_url, DEMO_USERNAME, password):
                typer.echo(f"demo clinician created: username {DEMO_USERNAME}")
                where = show_secret(f"demo clinician {DEMO_USERNAME} password", password)
                if where != "terminal":
                    typer.echo(f"its password is in {where} (mode 0600)")
                typer.echo("(create more with `spineguide users create`)")
            else:
                typer.echo(f"demo clinician {DEMO_USERNAME!r} already exists")
        if trusted_proxies is not None:
            os.environ["SPINEGUIDE_TRUSTED_PROXIES"] = trusted_proxies
        os.environ["SPINEGUIDE_AUTO_MIGRATE"] = "0"  # done above, once, before workers start
        if insecure_cookies:
            os.environ["SPINEGUIDE_COOKIE_SECURE"] = "0"
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        typer.echo(f"SpineGuide at http://{shown}:{port}/  (API docs: http://{shown}:{port}/docs)")
        uvicorn.run(
            "spineguide.api.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            # X-Forwarded-For is interpreted by the app, only from SPINEGUIDE_TRUSTED_PROXIES;
            # uvicorn's own handling would trust loopback peers by default.
            proxy_headers=False,
            server_header=False,
        )

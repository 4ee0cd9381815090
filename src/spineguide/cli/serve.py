"""`spineguide serve`, `spineguide db upgrade` and `spineguide users create`."""

from __future__ import annotations

import os
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
    if not 1 <= len(username) <= 80:
        fail("username must be 1-80 characters")
    upgrade_database(database_url)
    generated = password is None
    password = password or generate_password()
    if not ensure_user(database_url, username, password, role):
        fail(f"user {username!r} already exists", "choose another username")
    typer.echo(f"created {role} {username!r}")
    if generated:
        typer.echo(f"password: {password}")


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
                typer.echo(f"demo clinician created: username {DEMO_USERNAME}  password {password}")
                typer.echo("(shown once; create more with `spineguide users create`)")
            else:
                typer.echo(f"demo clinician {DEMO_USERNAME!r} already exists")
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
        )

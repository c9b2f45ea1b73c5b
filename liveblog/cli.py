"""The ``liveblog`` command: run, serve, migrate, manage users and tokens, load the demo."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import ScriptInfo
from flask.cli import routes_command
from flask.cli import run_command
from flask.cli import shell_command
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import make_url

from . import accounts
from . import blogs
from . import db
from . import publishing
from . import store
from .errors import LiveblogError
from .models import ROLES
from .models import Entry
from .transfer import sources
from .transfer.export import Export
from .transfer.export import write_archive
from .transfer.importer import import_blog
from .web.templating import themes


def _create_app() -> Flask:
    from . import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=False,
    help="Liveblog: live blogs with live pages, feeds and an editor API.",
)
cli.add_command(shell_command)
cli.add_command(routes_command)


def _fail_on(error: LiveblogError) -> click.ClickException:
    return click.ClickException(error.detail)


def _require_migrated() -> None:
    """Stop with a clear message when the database schema is not the one this code needs."""
    database = db.database()
    current, head = database.migration_state()
    if current != head:
        where = make_url(database.url).render_as_string(hide_password=True)
        state = f"at revision {current}" if current else "empty"
        raise click.ClickException(
            f"The database {where} is {state}, but this version of Liveblog needs revision {head}. "
            "Run 'liveblog db upgrade' first."
        )


@cli.command("run", params=run_command.params, help=run_command.help)
@click.pass_context
def run(ctx: click.Context, /, **options: Any) -> None:
    """Run the development server (checks the database first)."""
    info = ctx.ensure_object(ScriptInfo)
    with info.load_app().app_context():
        _require_migrated()
    ctx.invoke(run_command, **options)


@cli.command(with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--connections",
    default=5000,
    show_default=True,
    type=int,
    help="Concurrent connections per worker (live readers hold one each).",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
def serve(host: str, port: int, workers: int, connections: int, access_log: bool) -> None:
    """Run the production server: gunicorn with gevent workers, so idle live streams are cheap."""
    from gunicorn.app.base import BaseApplication

    # This process must not import the database driver: psycopg picks how it waits for the
    # server when first imported, and a choice made before gevent patches the forked workers
    # would block each worker whole. So the app is built only in the workers, and the
    # schema is checked by a child process.
    check = subprocess.run(
        [sys.executable, "-m", "liveblog", "db", "check"], capture_output=True, text=True
    )
    if check.returncode:
        raise click.ClickException(check.stderr.strip().removeprefix("Error: "))

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gevent")
            self.cfg.set("worker_connections", connections)
            self.cfg.set("graceful_timeout", 5)
            # One fixed control-socket path per user would make two servers collide.
            self.cfg.set("control_socket_disable", True)
            self.cfg.set("accesslog", "-" if access_log else None)

        def load(self) -> Flask:
            # Each worker builds its own app after gevent has patched threading and sockets,
            # so the app's locks, threads and connections are cooperative.
            from . import create_app

            app = create_app()
            app.extensions["liveblog.scheduler"].ensure_running()
            return app

    Server().run()


@cli.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    db.database().upgrade(revision)
    current, _head = db.database().migration_state()
    click.echo(f"Database is at revision {current}.")


@db_group.command()
def check() -> None:
    """Exit non-zero, saying what to do, unless the database is fully migrated."""
    _require_migrated()


@db_group.command()
def current() -> None:
    """Show the database's revision and the one this code needs."""
    current, head = db.database().migration_state()
    click.echo(f"database: {current or 'empty'}; code: {head}")


@cli.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
@click.option("--name", help="Display name (default: the part of the email before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="An account that only uses API tokens.")
def create_user(
    email: str, role: str, name: str | None, password_stdin: bool, no_password: bool
) -> None:
    """Create a user; the password is asked for unless --password-stdin or --no-password."""
    _require_migrated()
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(db.session(), email, role, password, name)
    except LiveblogError as error:
        raise _fail_on(error) from None
    click.echo(f"Created {user.role} {user.email}.")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password; their editor sessions end."""
    _require_migrated()
    user = store.get_user_by_email(db.session(), email)
    if user is None:
        raise click.ClickException(f"There is no user {email}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(db.session(), user, password)
    except LiveblogError as error:
        raise _fail_on(error) from None
    click.echo(f"{user.email} has a new password; their editor sessions have ended.")


@cli.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="", help="What the token is for.")
def create_token(email: str, label: str) -> None:
    """Create an API token for EMAIL and print it (it is shown only this once)."""
    _require_migrated()
    user = store.get_user_by_email(db.session(), email)
    if user is None:
        raise click.ClickException(
            f"There is no user {email}; create one with 'liveblog users create'."
        )
    click.echo(accounts.create_token(db.session(), user, label))


DEMO_EMAIL = "demo-desk@liveblog.invalid"


@cli.command()
def demo() -> None:
    """Load the demo live blog (the Hama offensive story), once, and print an API token."""
    _require_migrated()
    session = db.session()
    data = json.loads(files("liveblog.demo").joinpath("syria.json").read_text(encoding="utf-8"))
    user = store.get_user_by_email(session, DEMO_EMAIL) or accounts.create_user(
        session, DEMO_EMAIL, "admin", None, "Live desk"
    )
    slug = data["blog"]["slug"]
    try:
        store.get_blog(session, slug)
        click.echo(f"The demo blog /{slug}/ is already loaded.")
    except LiveblogError:
        _copy_demo_media()
        blogs.create_blog(session, themes(), data["blog"], user)
        for entry in data["entries"]:
            publishing.create_entry(session, themes(), slug, entry, user)
        click.echo(f"Loaded the demo blog with {len(data['entries'])} entries: /{slug}/")
    click.echo(f"API token for {DEMO_EMAIL}: {accounts.create_token(session, user, 'demo')}")


def _copy_demo_media() -> None:
    target = Path(current_app.config["MEDIA_PATH"]) / "demo"
    target.mkdir(parents=True, exist_ok=True)
    for item in files("liveblog.demo").joinpath("media").iterdir():
        with item.open("rb") as source, (target / item.name).open("wb") as copy:
            shutil.copyfileobj(source, copy)


@cli.command()
def rerender() -> None:
    """Re-render every entry's stored HTML (after the sanitiser or block templates change)."""
    _require_migrated()
    count = blogs.rerender_entries(db.session(), themes())
    click.echo(f"Re-rendered {count} entries.")


@contextmanager
def _progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error while it is a terminal; otherwise nothing shown."""
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


@cli.command("export")
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option(
    "--with-media",
    is_flag=True,
    help="Write a .tar.gz archive: the document and the uploaded files it shows.",
)
def export_command(slug: str, output: Path | None, with_media: bool) -> None:
    """Write live blog SLUG as one JSON document: the blog, every entry with its revisions,
    its authors and the uploads it shows."""
    _require_migrated()
    session = db.session()
    try:
        blog = store.get_blog(session, slug)
    except LiveblogError as error:
        raise _fail_on(error) from None
    total = session.scalar(select(func.count()).where(Entry.blog_id == blog.id)) or 0
    if with_media and output is None:
        raise click.ClickException("An archive needs a file: give -o FILE.tar.gz.")
    with _progress(total, f"Exporting /{slug}/") as progress:
        export = Export(session, slug, progress)
        if output is None:
            for piece in export:
                sys.stdout.write(piece)
        else:
            with _replacing(output) as file:
                if with_media:
                    media = write_archive(export, Path(current_app.config["MEDIA_PATH"]), file)
                else:
                    for piece in export:
                        file.write(piece.encode("utf-8"))
    where = f" to {output}" if output else ""
    files_note = f" and {media} media files" if with_media else ""
    click.echo(
        f"Exported {export.entries} entries of /{slug}/{files_note}{where}.", err=output is None
    )


@contextmanager
def _replacing(target: Path) -> Iterator[Any]:
    """A file written beside ``target`` that replaces it when complete: a failed export
    leaves no half-written file."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as file:
            yield file
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="The new blog's slug (default: the one in the file).")
@click.option(
    "--format",
    "format_",
    type=click.Choice(sources.FORMATS),
    help="json (a Liveblog export or archive), wxr (WordPress) or text (detected when not given).",
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="text: the day of the labels' times, YYYY-MM-DD (default: today).",
)
@click.option("--post", type=int, help="wxr: the id of the post to import, if there are several.")
def import_command(
    file: Path, slug: str | None, format_: str | None, day: datetime | None, post: int | None
) -> None:
    """Create a live blog from FILE: a Liveblog export, a WordPress export (WXR) or a
    plain-text article. All or nothing: a file that fails leaves nothing behind."""
    _require_migrated()
    media_path = Path(current_app.config["MEDIA_PATH"])
    try:
        with sources.open_source(
            file, format_, day=day.date() if day else None, post=post
        ) as source:
            with _progress(source.size, f"Importing {file.name}") as progress:
                source.watch(progress)
                imported = import_blog(
                    db.session(),
                    themes(),
                    source.parts,
                    slug=slug,
                    media=source.media,
                    media_path=media_path,
                )
    except LiveblogError as error:
        raise click.ClickException(f"Nothing was imported. {error.detail}") from None
    blog = imported.blog
    media = f"; {imported.media_files} media files" if imported.media_files else ""
    click.echo(
        f"Imported /{blog.slug}/ ({blog.status}): {imported.entries} entries, "
        f"{imported.published} published; {imported.new_people} new authors{media}."
    )
    if imported.missing_media:
        click.echo(
            f"{len(imported.missing_media)} uploads it shows are not in {media_path}: "
            "import an archive made with 'liveblog export --with-media', or copy them there."
        )


def main() -> None:
    cli.main(prog_name="liveblog")

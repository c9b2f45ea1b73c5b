"""Export and import benchmark: time and peak memory of ``liveblog export`` and
``liveblog import`` on blogs of 10,000 and 100,000 entries.

For each size, builds a SQLite database holding one live blog (the blog and its first
entry through the use cases, the rest bulk-inserted with SQLAlchemy Core: the same blocks
and HTML, one minute apart, each with its revision and its ``entry.published`` change),
then runs, each as a child process of its own:

1. ``liveblog export SLUG -o FILE`` on that database;
2. ``liveblog import FILE`` into a second, freshly migrated database (every entry validated
   and rendered again, the change log rebuilt).

and reports each child's wall time and peak resident memory (``VmHWM`` of the child's
own process image, read from /proc as it ends: ``ru_maxrss`` would count the memory of
the process it was forked from). Memory that stays flat from 10,000 to 100,000 entries is
what "streamed" means: neither command holds the blog in memory.

Run from the repository root: ``.venv/bin/python bench/transfer.py`` (``--sizes`` to
choose others, ``--keep`` to keep the temporary folder). Only files in a temporary folder
are touched.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from liveblog import accounts
from liveblog import blogs
from liveblog import publishing
from liveblog.db import Database
from liveblog.models import Blog
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.models import Revision
from liveblog.themes import THEMES_DIR
from liveblog.themes import Themes

SLUG = "bench"
BATCH = 5000
BODY = (
    "Rebels have **launched** their assault on Qomhana, with a suicide car bomb, a local "
    "source says. [More on the offensive](https://example.org/hama).\n\n"
    "- Ahrar al-Sham has joined\n- Fighting near Kawkab"
)
# The child: the liveblog command, then its peak memory on standard error.
CHILD = """
import sys
from liveblog.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="liveblog", standalone_mode=False)
finally:
    with open("/proc/self/status") as status:
        print(next(line for line in status if line.startswith("VmHWM:")), file=sys.stderr)
"""


def build_database(path: Path, size: int) -> None:
    """A SQLite file at ``path`` holding one live blog of ``size`` published entries."""
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    themes = Themes(THEMES_DIR)
    session = database.sessions()
    try:
        user = accounts.create_user(session, "bench@liveblog.invalid", "admin", None, "Desk")
        data = {"slug": SLUG, "title": f"{size:,} updates", "status": "live"}
        blog = blogs.create_blog(session, themes, data, user)
        start = (datetime.now(UTC) - timedelta(minutes=size + 5)).replace(microsecond=0)
        first = publishing.create_entry(
            session, themes, SLUG, {"body": BODY, "published_at": start.isoformat()}, user
        )
        blog_id, author_id, blocks, html = blog.id, user.id, first.blocks, first.html
    finally:
        session.close()
    with database.engine.begin() as connection:
        for low in range(1, size, BATCH):
            rows = []
            for n in range(low, min(low + BATCH, size)):
                moment = start + timedelta(minutes=n)
                rows.append(
                    {
                        "blog_id": blog_id,
                        "author_id": author_id,
                        "headline": f"Update {n + 1}",
                        "blocks": blocks,
                        "html": html,
                        "status": "published",
                        "published_at": moment,
                        "pinned": False,
                        "key_event": n % 1000 == 0,
                        "version": 1,
                        "created_at": moment,
                        "updated_at": moment,
                    }
                )
            ids = connection.scalars(insert(Entry).returning(Entry.id), rows).all()
            revisions = [
                {
                    "entry_id": entry_id,
                    "version": 1,
                    "editor_id": author_id,
                    "created_at": row["created_at"],
                    "data": {
                        "headline": row["headline"],
                        "blocks": blocks,
                        "status": "published",
                        "published_at": row["published_at"].isoformat(),
                        "pinned": False,
                        "key_event": row["key_event"],
                    },
                }
                for entry_id, row in zip(ids, rows, strict=True)
            ]
            connection.execute(insert(Revision), revisions)
            changes = [
                {
                    "blog_id": blog_id,
                    "seq": 1 + low + i,
                    "kind": "entry.published",
                    "entry_id": entry_id,
                }
                for i, entry_id in enumerate(ids)
            ]
            connection.execute(insert(Change), changes)
        count = connection.scalar(select(Change.seq).order_by(Change.seq.desc()).limit(1))
        connection.execute(update(Blog).where(Blog.id == blog_id).values(last_seq=count))
    database.engine.dispose()


def measured(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``liveblog ARGS…``; its wall time (s) and peak resident memory (MiB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"liveblog {' '.join(args)} failed: {done.stdout}{done.stderr}")
    print(f"    {done.stdout.strip()}", flush=True)
    peak_kib = int(done.stderr.rsplit("VmHWM:", 1)[1].split()[0])
    return {"seconds": elapsed, "peak_mib": peak_kib / 1024}


def bench(folder: Path, size: int) -> dict[str, float]:
    source, target = folder / f"source-{size}.sqlite", folder / f"target-{size}.sqlite"
    document = folder / f"export-{size}.json"
    started = time.perf_counter()
    build_database(source, size)
    Database(f"sqlite:///{target}").upgrade()
    print(f"  built {size:,} entries in {time.perf_counter() - started:.1f} s", flush=True)
    env = {**os.environ, "LIVEBLOG_INSTANCE_PATH": str(folder / "instance")}
    env["LIVEBLOG_SCHEDULER_INTERVAL"] = "0"
    exported = measured(
        ["export", SLUG, "-o", str(document)],
        {**env, "LIVEBLOG_DATABASE_URL": f"sqlite:///{source}"},
    )
    imported = measured(
        ["import", str(document)], {**env, "LIVEBLOG_DATABASE_URL": f"sqlite:///{target}"}
    )
    return {
        "entries": size,
        "document_mib": document.stat().st_size / 2**20,
        "export_s": exported["seconds"],
        "export_peak_mib": exported["peak_mib"],
        "import_s": imported["seconds"],
        "import_peak_mib": imported["peak_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="liveblog-transfer-bench-"))
    try:
        results = []
        for size in options.sizes:
            print(f"{size:,} entries", flush=True)
            results.append(bench(folder, size))
        print("\n| entries | document | export | export peak RSS | import | import peak RSS |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r['entries']:,} | {r['document_mib']:.0f} MiB | {r['export_s']:.1f} s | "
                f"{r['export_peak_mib']:.0f} MiB | {r['import_s']:.1f} s | {r['import_peak_mib']:.0f} MiB |"
            )
        print(json.dumps(results))
    finally:
        if options.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

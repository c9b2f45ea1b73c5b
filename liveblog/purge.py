"""Caching fronts told at once when readers must stop seeing something. No Flask.

A front (``deploy/nginx/``) keys its copies of a blog's pages, permalinks and feeds on
the blog's seq, which it learns from ``/<slug>/seq`` and keeps for ``s-maxage``. After a
commit that takes something back from readers (an entry edited, deleted or unpublished,
the blog's settings changed, the blog ended or unpublished), ``PurgeOnCommit`` queues
the blog with the ``FrontPurger``, whose thread GETs ``<purge URL>/<slug>/`` of every
front: the front fetches the blog's seq again, past its cache, and every copy keyed on
the old seq is retired at once, whatever its query (``?before=``, ``?since=``). A change
of the blog also refreshes the index (``<purge URL>/``), which lists blogs.

Each refresh is sent again ``AGAIN`` seconds later: a front may store, after the first
refresh, a seq it had fetched before the commit. New entries and pins are not purged:
readers see them within ``s-maxage`` like any change; what cannot wait is what was
taken back (a removal may be a legal one).
"""

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .embeds.fetch import Fetcher
from .models import Blog
from .models import Change
from .outbox import Outbox

log = logging.getLogger(__name__)

PURGED_KINDS = frozenset({"entry.updated", "entry.deleted", "blog.updated"})
AGAIN = 1.0
USER_AGENT = "Liveblog purger"
# A refresh answers with the blog's seq (no body) or the index page: no more is read.
MAX_ANSWER_BYTES = 65_536


class FrontPurger(Outbox):
    """Refreshes blogs at caching fronts from a daemon thread; ``purge`` only queues.

    ``purge_urls`` are the fronts' purge endpoints (``LIVEBLOG_PURGE_URLS``). A burst of
    changes to a blog costs one refresh per front (and its repeat); failures are retried
    and logged (see ``Outbox``).
    """

    name = "liveblog-purge"
    what = "Front refresh"

    def __init__(
        self,
        purge_urls: Iterable[str],
        *,
        timeout: float = 5.0,
        attempts: int = 4,
        backoff: float = 1.0,
        again: float = AGAIN,
    ) -> None:
        super().__init__(attempts=attempts, backoff=backoff)
        self.purge_urls = [url.rstrip("/") for url in purge_urls]
        self.again = again
        # The fronts are the operator's own setting, not an editor's link: they may be private.
        self.fetcher = Fetcher(timeout, MAX_ANSWER_BYTES, allow_private=True, user_agent=USER_AGENT)

    def purge(self, slugs: Iterable[str], *, index: bool = False) -> None:
        """Queue a refresh of each blog (and of the index) at every front; returns at once."""
        paths = [f"/{slug}/" for slug in slugs] + (["/"] if index else [])
        urls = [base + path for base in self.purge_urls for path in paths]
        self.queue(urls)
        self.queue(urls, delay=self.again)

    def send(self, url: str) -> None:
        """GET one refresh; raises FetchError unless the front took it."""
        self.fetcher.get(url, "*/*", truncate=True)


class PurgeOnCommit:
    """Receiver of ``signals.changes_committed``: purges the blogs whose readers lost something.

    The signal is global, so it only acts on sessions of its own database engine (several
    apps may live in one process).
    """

    def __init__(self, purger: FrontPurger, engine: Engine) -> None:
        self.purger = purger
        self.engine = engine

    def __call__(self, session: Session, *, changes: list[Change], **_extra: Any) -> None:
        # Runs in the writer's thread right after its commit: never let it fail the write.
        try:
            if session.get_bind() is not self.engine:
                return
            taken_back = sorted({c.blog_id for c in changes if c.kind in PURGED_KINDS})
            slugs = []
            for blog_id in taken_back:
                blog = session.get(Blog, blog_id)  # still in the session: no query
                if blog is not None:
                    slugs.append(blog.slug)
            if slugs:
                self.purger.purge(slugs, index=any(c.kind == "blog.updated" for c in changes))
        except Exception:
            log.exception("could not queue front purges for changes %s", changes)

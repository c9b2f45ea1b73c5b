"""WebSub publishing: tell the hub which feeds changed, from a worker thread. No Flask.

After a commit that appended changes, ``FeedPinger`` queues the blog's feed URLs with the
``HubNotifier``; its thread (an ``Outbox``) POSTs ``hub.mode=publish`` for each, with a
timeout and a few retries with growing delays. Nothing here runs on, blocks or fails the
editor's request.
"""

import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .embeds.fetch import Fetcher
from .models import Blog
from .models import Change
from .outbox import Outbox

log = logging.getLogger(__name__)

USER_AGENT = "Liveblog WebSub publisher"
# Hubs answer a ping with a status and perhaps a line of text: nothing larger is read.
MAX_ANSWER_BYTES = 65_536


class HubNotifier(Outbox):
    """Pings one hub from a daemon thread per process; ``publish`` only queues and returns.

    A topic already waiting for its first attempt is not queued twice, so a burst of
    changes costs one ping per feed; failed pings are retried (see ``Outbox``).
    """

    name = "liveblog-websub"

    def __init__(
        self, hub_url: str, *, timeout: float = 10.0, attempts: int = 4, backoff: float = 1.0
    ) -> None:
        super().__init__(attempts=attempts, backoff=backoff)
        self.hub_url = hub_url
        self.what = f"WebSub ping to {hub_url} for"
        # The hub is the operator's own setting, not an editor's link: it may be private.
        self.fetcher = Fetcher(timeout, MAX_ANSWER_BYTES, allow_private=True, user_agent=USER_AGENT)

    def publish(self, topics: Iterable[str]) -> None:
        """Queue a publish notification for each topic URL; returns at once."""
        self.queue(topics)

    def send(self, topic: str) -> None:
        """POST one publish notification; raises FetchError if it was not accepted."""
        self.fetcher.post_form(self.hub_url, {"hub.mode": "publish", "hub.url": topic})


class FeedPinger:
    """Receiver of ``signals.changes_committed``: queues the feeds of every changed blog.

    The signal is global, so the pinger only acts on sessions of its own database engine
    (several apps may live in one process). Draft blogs have no public feeds to announce.
    """

    def __init__(
        self, notifier: HubNotifier, engine: Engine, feed_urls: Callable[[str], list[str]]
    ) -> None:
        self.notifier = notifier
        self.engine = engine
        self.feed_urls = feed_urls

    def __call__(self, session: Session, *, changes: list[Change], **_extra: Any) -> None:
        # Runs in the writer's thread right after its commit: never let it fail the write.
        try:
            if session.get_bind() is not self.engine:
                return
            topics: list[str] = []
            for blog_id in sorted({change.blog_id for change in changes}):
                blog = session.get(Blog, blog_id)  # still in the session: no query
                if blog is not None and blog.status != "draft":
                    topics += self.feed_urls(blog.slug)
            if topics:
                self.notifier.publish(topics)
        except Exception:
            log.exception("could not queue WebSub pings for changes %s", changes)

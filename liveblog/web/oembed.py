"""Blueprint "oembed": the oEmbed provider (https://oembed.com) for this site's live pages
and permalinks, so that a link pasted into a newsroom's CMS becomes our embed.

``GET /oembed?url=…&format=json&maxwidth=…&maxheight=…`` answers the ``rich`` type: its
``html`` is an iframe of ``/<slug>/embed`` (``?update=<id>`` for a permalink: the card of
that update) with the script that sizes it. As the specification says, a URL that is
not one of our pages is a 404 and a format other than JSON a 501; a missing or malformed
argument is a 400. Answers are cached like the pages they describe.
"""

from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from .. import db
from .. import store
from ..errors import FormatNotImplemented
from ..errors import LiveblogError
from ..errors import NotFound
from ..validation import check_url
from ..validation import whole_number
from .conditional import cached_for_readers
from .templating import entry_view
from .templating import templates
from .urls import absolute

bp = Blueprint("oembed", __name__)

# The iframes' size when the consumer sets no limit: the live page, one update's card.
LIVE_SIZE = (640, 800)
CARD_SIZE = (550, 400)
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_PIXELS = 100_000  # a larger maxwidth or maxheight limits nothing more


def _dimension(name: str) -> int | None:
    """``maxwidth`` or ``maxheight`` in pixels; left empty, there is no limit."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    pixels = whole_number(raw, MAX_PIXELS)
    if pixels is None or pixels < 1:
        raise LiveblogError(f"{name} must be a whole number of pixels, such as 600.")
    return min(pixels, MAX_PIXELS)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or DEFAULT_PORTS.get(parts.scheme),
    )


def our_page(url: str) -> tuple[str, int | None]:
    """The blog slug and, for a permalink, the entry id that ``url`` names on this site.

    Raises LiveblogError for what is not an http(s) URL and NotFound for any other site's
    URL, or a path of ours that is no live page or permalink.
    """
    if problem := check_url(url):
        raise LiveblogError(f"url {problem}: give the address of a live page or of one update.")
    base = current_app.config["BASE_URL"]
    if _origin(url) != _origin(base):
        raise NotFound(f"{url} is not a page of this site ({base}).")
    prefix = urlsplit(base).path.rstrip("/")
    path = unquote(urlsplit(url).path)
    if not path.startswith(prefix + "/"):
        raise NotFound(f"{url} is not a page of this site ({base}).")
    routes = current_app.url_map.bind("oembed.invalid")
    try:
        try:
            endpoint, args = routes.match(path[len(prefix) :], method="GET")
        except RequestRedirect as redirect:  # /<slug> without its slash
            endpoint, args = routes.match(urlsplit(redirect.new_url).path, method="GET")
    except HTTPException:
        endpoint, args = "", {}
    if endpoint not in ("public.live_page", "public.entry"):
        raise NotFound(f"{url} is neither a live page nor an update of this site.")
    return args["slug"], args.get("entry_id")


@bp.get("/oembed")
def oembed() -> Response:
    """A ``rich`` oEmbed answer for one of our live pages or permalinks."""
    url = request.args.get("url", "").strip()
    if not url:
        raise LiveblogError("url is required: the address of a live page or of one update.")
    if (request.args.get("format") or "json").lower() != "json":
        raise FormatNotImplemented("This provider answers in JSON only: use format=json.")
    max_width, max_height = _dimension("maxwidth"), _dimension("maxheight")
    slug, entry_id = our_page(url)
    blog = store.reader_blog(db.session(), slug)

    def build() -> Response:
        answer: dict[str, Any] = {
            "type": "rich",
            "version": "1.0",
            "provider_name": current_app.config["SITE_NAME"],
            "provider_url": absolute("/"),
            "title": blog.title,
        }
        if entry_id is None:
            src, (width, height) = url_for("embed.embed", slug=slug), LIVE_SIZE
        else:
            entry = store.get_entry(db.session(), blog, entry_id)
            if entry.status != "published":
                raise NotFound(f"Live blog {slug!r} has no update {entry_id}.")
            view = entry_view(blog, entry)
            answer.update(title=f"{view.title} — {blog.title}", author_name=view.author)
            src = url_for("embed.embed", slug=slug, update=entry_id)
            width, height = CARD_SIZE
        width, height = min(width, max_width or width), min(height, max_height or height)
        answer.update(
            width=width,
            height=height,
            html=templates(blog)
            .get_template("_embed_code.html")
            .render(
                src=absolute(src),
                width=width,
                height=height,
                max_height=max_height,
                title=answer["title"],
                script=absolute(url_for("embed.host_script")),
            )
            .strip(),
        )
        response = jsonify(answer)
        # Public and without credentials: a consumer may read it from a browser too.
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return cached_for_readers(blog, request.full_path, build)

"""Public corrections: how a note reads, and what it changes about an entry's dates. Pure."""

from datetime import datetime

from markupsafe import escape

from .i18n import translations_for
from .labels import format_label
from .models import Blog
from .models import Correction
from .models import Entry

TIME_FORMAT = "%H%M %Z"
"""How an edit's or a correction's time reads (``1305 GMT``), like the entry's label."""


def correction_time(blog: Blog, correction: Correction) -> str:
    """``1305 GMT``: when the note was made, in the blog's time zone."""
    return format_label(correction.created_at, blog.timezone, TIME_FORMAT, blog.language)


def corrections_html(blog: Blog, entry: Entry) -> str:
    """The entry's notes as HTML paragraphs, oldest first, for readers away from our pages."""
    gettext = translations_for(blog.language).gettext
    return "".join(
        f'<p class="entry-correction"><strong>'
        f"{escape(gettext('Correction, %(time)s:') % {'time': correction_time(blog, correction)})}"
        f"</strong> {escape(correction.note)}</p>"
        for correction in entry.corrections
    )


def last_modified(entry: Entry) -> datetime | None:
    """The entry's last edit or correction after publishing, if any."""
    moments = [entry.edited_at] if entry.edited_at else []
    moments += [correction.created_at for correction in entry.corrections]
    return max(moments, default=None)


def silent_edit(entry: Entry) -> datetime | None:
    """The entry's last edit, unless a correction note came with it or after it: readers
    see "Updated" only for an edit that no note explains."""
    if entry.edited_at is None:
        return None
    if entry.corrections and entry.corrections[-1].created_at >= entry.edited_at:
        return None
    return entry.edited_at

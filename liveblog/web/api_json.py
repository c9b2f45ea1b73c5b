"""How blogs, entries, users and tokens look to API clients."""

from datetime import datetime
from typing import Any

from flask import url_for

from ..desks import Member
from ..labels import entry_label
from ..models import ApiToken
from ..models import Blog
from ..models import Entry
from ..models import User
from .urls import author_url
from .urls import blog_url
from .urls import permalink


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def blog_json(blog: Blog) -> dict[str, Any]:
    return {
        "id": blog.id,
        "slug": blog.slug,
        "title": blog.title,
        "standfirst": blog.standfirst,
        "top_image": blog.top_image,
        "status": blog.status,
        "timezone": blog.timezone,
        "label_format": blog.label_format,
        "language": blog.language,
        "theme": blog.theme,
        "embed_widgets": blog.embed_widgets,
        "embed_origins": blog.embed_origins,
        "ended_order": blog.ended_order,
        "last_seq": blog.last_seq,
        "created_at": _iso(blog.created_at),
        "updated_at": _iso(blog.updated_at),
        "started_at": _iso(blog.started_at),
        "ended_at": _iso(blog.ended_at),
        "url": blog_url(blog),
        "entries": url_for("api.list_entries", slug=blog.slug),
    }


def entry_json(
    entry: Entry, blog: Blog, unresolved: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An entry; ``unresolved``: its bare post and video links not looked up (yet)."""
    return {
        "id": entry.id,
        "blog": blog.slug,
        "author": {"id": entry.author.id, "name": entry.author.name},
        "authors": [author.id for author in entry.credited()],
        "headline": entry.headline,
        "blocks": entry.blocks,
        "status": entry.status,
        "published_at": _iso(entry.published_at),
        "pinned": entry.pinned,
        "key_event": entry.key_event,
        "review": entry.review,
        "review_note": entry.review_note,
        "version": entry.version,
        "created_at": _iso(entry.created_at),
        "updated_at": _iso(entry.updated_at),
        "edited_at": _iso(entry.edited_at),
        "corrections": [
            {
                "note": correction.note,
                "created_at": _iso(correction.created_at),
                "version": correction.version,
            }
            for correction in entry.corrections
        ],
        "label": entry_label(blog, entry),
        "html": entry.html,
        "permalink": permalink(blog, entry),
        "unresolved": unresolved or [],
    }


def member_json(member: Member) -> dict[str, Any]:
    """A desk member: their role on the blog, and the account's own role and standing."""
    return {
        "id": member.id,
        "name": member.name,
        "role": member.role,
        "account_role": member.account_role,
        "active": member.active,
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    """An API token as admins see it: never the secret, which is shown only once."""
    return {
        "id": token.id,
        "label": token.label,
        "created_at": _iso(token.created_at),
        "revoked_at": _iso(token.revoked_at),
    }


def user_json(user: User, tokens: list[ApiToken] | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "has_password": user.password_hash is not None,
        "created_at": _iso(user.created_at),
        "tokens": [token_json(token) for token in tokens or []],
        "title": user.title,
        "bio": user.bio,
        "links": user.links or [],
        "slug": user.slug,
        "photo": user.photo,
        "url": author_url(user),
    }

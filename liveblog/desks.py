"""Who works on which blog: each blog's desk of editors and contributors. No Flask.

A user writes on a blog with the lesser of their own role and their role on its desk;
admins are on every desk as admins. Members are added and removed by admins and by the
blog's own editors. A blog keeps at least one editor: only an admin may remove the last.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import store
from .errors import Conflict
from .errors import FieldError
from .errors import Forbidden
from .errors import NotFound
from .errors import ValidationError
from .models import DESK_ROLES
from .models import ROLES
from .models import Blog
from .models import BlogMember
from .models import User
from .models import includes
from .models import utcnow
from .validation import Fields

MEMBER_FIELDS = ("user", "role")


def role_on(session: Session, user: User, blog: Blog) -> str | None:
    """The role ``user`` writes with on ``blog``, or None when they are not on its desk."""
    if not user.active:
        return None
    if user.role == "admin":
        return "admin"
    desk_role = session.scalar(
        select(BlogMember.role).where(BlogMember.blog_id == blog.id, BlogMember.user_id == user.id)
    )
    if desk_role is None:
        return None
    return min(desk_role, user.role, key=ROLES.index)


def require_desk(session: Session, user: User, blog: Blog, role: str = "contributor") -> str:
    """The role ``user`` holds on ``blog``, which must include ``role``.

    Someone not on the desk of a blog readers cannot see (a draft) is told it is not
    there, in the words of a missing blog; of a blog readers see, that it is not theirs.
    """
    held = role_on(session, user, blog)
    if held is None:
        if blog.status not in store.READER_STATUSES:
            raise NotFound(f"There is no live blog {blog.slug!r}.")
        raise Forbidden(
            f"You are not on the desk of the live blog {blog.slug!r}; "
            "ask one of its editors or an admin to add you."
        )
    if not includes(held, role):
        raise Forbidden(f"Only the editors of the live blog {blog.slug!r} can do this.")
    return held


def blog_ids_of(session: Session, user: User) -> set[int] | None:
    """The ids of the blogs whose desks ``user`` is on; None for an admin (every blog)."""
    if user.can("admin"):
        return None
    query = select(BlogMember.blog_id).where(BlogMember.user_id == user.id)
    return set(session.scalars(query)) if user.active else set()


def blogs_of(session: Session, user: User) -> list[Blog]:
    """The blogs ``user`` works on, in the order of ``store.list_blogs``."""
    ids = blog_ids_of(session, user)
    return [blog for blog in store.list_blogs(session) if ids is None or blog.id in ids]


@dataclass(frozen=True)
class Member:
    """A desk member as listings show them: their role on the desk and their own."""

    id: int
    name: str
    email: str
    role: str
    account_role: str
    active: bool


def members(session: Session, actor: User, slug: str) -> list[Member]:
    """The desk of blog ``slug``, editors first, then by name; for anyone on it."""
    blog = store.get_blog(session, slug)
    require_desk(session, actor, blog)
    return _members(session, blog)


def _members(session: Session, blog: Blog) -> list[Member]:
    rows = session.scalars(select(BlogMember).where(BlogMember.blog_id == blog.id)).all()
    found = [
        Member(row.user.id, row.user.name, row.user.email, row.role, row.user.role, row.user.active)
        for row in rows
    ]
    return sorted(found, key=lambda member: (-ROLES.index(member.role), member.name.lower()))


def candidates(session: Session) -> list[User]:
    """The users who may be put on a desk: active, and not admins (on every desk already)."""
    query = select(User).where(User.active.is_(True), User.role != "admin")
    return sorted(session.scalars(query), key=lambda user: (user.name.lower(), user.email))


def read_member(data: object) -> tuple[int, str]:
    """(user id, role) from ``{"user": <id>, "role": "editor" | "contributor"}``."""
    fields = Fields.top(data, MEMBER_FIELDS)
    user_id = fields.number("user", 1, store.MAX_ID - 1, required=True, integer=True)
    role = fields.choice("role", DESK_ROLES, required=True)
    fields.raise_errors()
    return int(user_id), str(role)


def add_member(session: Session, actor: User, slug: str, data: object) -> tuple[Member, bool]:
    """Put a user on blog ``slug``'s desk, or change the role they have there (admins and
    the blog's editors). Returns the member and whether they are new to the desk."""
    user_id, role = read_member(data)
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        require_desk(session, actor, blog, "editor")
        user = session.get(User, user_id)
        if user is None:
            raise ValidationError([FieldError("user", f"there is no user {user_id}")])
        if user.role == "admin":
            raise ValidationError(
                [FieldError("user", f"{user.name} is an admin, on every desk already")]
            )
        if not includes(user.role, role):
            raise ValidationError(
                [
                    FieldError(
                        "role",
                        f"cannot be {role}: {user.name} is a {user.role}, and nobody holds "
                        "more on a desk than their own role (an admin can change that role)",
                    )
                ]
            )
        row = _membership(session, blog, user)
        added = row is None
        if row is None:
            row = BlogMember(blog_id=blog.id, user_id=user.id, role=role, created_at=utcnow())
            session.add(row)
        elif row.role != role:
            _keep_an_editor(session, actor, blog, row, role)
            row.role = role
        session.flush()
    member = Member(user.id, user.name, user.email, role, user.role, user.active)
    return member, added


def remove_member(session: Session, actor: User, slug: str, user_id: int) -> User:
    """Take a user off blog ``slug``'s desk (admins and the blog's editors); returns them."""
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        require_desk(session, actor, blog, "editor")
        user = session.get(User, user_id) if 0 < user_id < store.MAX_ID else None
        row = _membership(session, blog, user) if user is not None else None
        if row is None:
            raise NotFound(f"User {user_id} is not on the desk of the live blog {slug!r}.")
        _keep_an_editor(session, actor, blog, row, None)
        session.delete(row)
    return row.user


def join(session: Session, blog: Blog, user: User) -> None:
    """Put ``user`` on the desk of the new ``blog`` with their own role (admins too, so a
    blog records who started it), in the current transaction."""
    session.add(BlogMember(blog_id=blog.id, user_id=user.id, role=user.role, created_at=utcnow()))


def _membership(session: Session, blog: Blog, user: User) -> BlogMember | None:
    query = select(BlogMember).where(BlogMember.blog_id == blog.id, BlogMember.user_id == user.id)
    return session.scalars(query).one_or_none()


def _keep_an_editor(
    session: Session, actor: User, blog: Blog, row: BlogMember, new_role: str | None
) -> None:
    """Refuse to leave ``blog`` without an editor, unless an admin does it: its desk would
    have nobody left to publish or to add anyone."""
    if row.role != "editor" or new_role == "editor" or actor.can("admin"):
        return
    editors = session.scalars(
        select(BlogMember.user_id).where(
            BlogMember.blog_id == blog.id,
            BlogMember.role.in_(("editor", "admin")),
            BlogMember.user_id != row.user_id,
        )
    ).all()
    if not editors:
        raise Conflict(
            f"{row.user.name} is the last editor of the live blog {blog.slug!r}; "
            "add another editor first, or ask an admin."
        )

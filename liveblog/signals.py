"""Signals other parts connect to. Receivers take the sender plus keyword arguments."""

from blinker import Namespace

_signals = Namespace()

changes_committed = _signals.signal("changes-committed")
"""Sent by store.transaction after a commit that appended changes: ``changes=[Change, …]``."""

desk_moved = _signals.signal("desk-moved")
"""Sent by store.transaction after a commit that moved blogs' desk_seq: ``moves=[(blog id,
desk_seq), …]``."""

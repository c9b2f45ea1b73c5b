"""``python -m liveblog`` is the ``liveblog`` command."""

from .cli import main

main()

"""Our Python-Markdown extensions."""

from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor


class EscapeHtmlExtension(Extension):
    """Show raw HTML typed into Markdown as text instead of passing it through.

    An editor who types ``<script>`` sees ``<script>`` on the page: nothing is silently
    dropped, and the sanitiser after Markdown never has to guess what was meant.
    """

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


class DemoteH1Extension(Extension):
    """Turn ``# Heading`` into an ``<h2>``: the page's ``<h1>`` is the blog's title.

    The sanitiser does not allow ``<h1>``, so without this the heading would be stripped
    to bare text outside any paragraph.
    """

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        md.treeprocessors.register(_DemoteH1(md), "demote_h1", 5)


class _DemoteH1(Treeprocessor):
    def run(self, root: Any) -> None:
        for element in root.iter("h1"):
            element.tag = "h2"


def makeExtension(**kwargs: Any) -> EscapeHtmlExtension:  # noqa: N802
    return EscapeHtmlExtension(**kwargs)

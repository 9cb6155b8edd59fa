"""HTML bodies as text: table rows become tab-separated lines, entities decoded (stdlib ``html.parser``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"})
_SKIP = frozenset({"script", "style", "head", "title"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0
        self.cells: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "tr":
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.cells.append("")
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag == "tr" and self.cells is not None:
            prefix = "> " if self.quote else ""
            self.out.append("\n" + prefix + "\t".join(" ".join(c.split()) for c in self.cells) + "\n")
            self.cells = None
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cells is not None and self.cells:
            self.cells[-1] += data
        elif self.cells is None:
            # Quoted history (a blockquote) keeps a "> " mark so the body reader skips it.
            text = data if not self.quote else "\n".join("> " + line for line in data.splitlines() if line.strip())
            self.out.append(text)


def html_to_text(html: str) -> str:
    """The text of an HTML body; each table row one line of tab-separated cells."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines()))

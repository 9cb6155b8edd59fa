"""HTML bodies as text and tables (stdlib ``html.parser``; entities decoded).

Each table row becomes one line of tab-separated cells, so the text keeps the rows where they were;
a table's rows are also kept as cells, with the text line each starts on, so the reader can tell a
table in the message's own text from one in quoted history (after ``On ... wrote:`` or inside a
``blockquote``, whose lines are marked ``> ``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "table", "hr"})
_SKIP = frozenset({"script", "style", "head", "title"})
MAX_TABLE_ROWS = 10_000


@dataclass
class HtmlTable:
    """A table's rows of cell texts; ``first_line`` is the 0-based text line of its first row."""

    first_line: int
    rows: list[list[str]] = field(default_factory=list)
    quoted: bool = False


@dataclass
class HtmlBody:
    """An HTML body's text and tables."""

    text: str
    tables: list[HtmlTable]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0
        self.cells: list[str] | None = None
        self.tables: list[HtmlTable] = []
        self.open_tables: list[HtmlTable] = []

    def _line(self) -> int:
        return "".join(self.out).count("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
            self.out.append("\n")
        elif tag == "table":
            self.out.append("\n")
            table = HtmlTable(self._line(), quoted=self.quote > 0)
            self.open_tables.append(table)
            self.tables.append(table)
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
            self.out.append("\n")
        elif tag == "table" and self.open_tables:
            self.open_tables.pop()
            self.out.append("\n")
        elif tag == "tr" and self.cells is not None:
            cells = [" ".join(c.split()) for c in self.cells]
            if self.open_tables and len(self.open_tables[-1].rows) < MAX_TABLE_ROWS:
                if not self.open_tables[-1].rows:
                    self.open_tables[-1].first_line = self._line() + 1
                self.open_tables[-1].rows.append(cells)
            self.out.append("\n" + ("> " if self.quote else "") + "\t".join(cells) + "\n")
            self.cells = None
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cells is not None:
            if self.cells:
                self.cells[-1] += data
            return
        if self.quote:  # quoted history keeps a "> " mark so the body reader skips it
            data = "\n".join("> " + line for line in data.splitlines() if line.strip())
        self.out.append(" ".join(data.split(" ")) if data.strip() else data.replace("\n", " "))


def read_html(html: str) -> HtmlBody:
    """The text (table rows as tab-separated lines) and the tables of an HTML body."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    text = "\n".join(line.rstrip() for line in "".join(reader.out).split("\n"))
    return HtmlBody(text, [table for table in reader.tables if table.rows])


def html_to_text(html: str) -> str:
    """The text of an HTML body; each table row one line of tab-separated cells."""
    return read_html(html).text

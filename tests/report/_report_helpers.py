"""Parse the report's HTML with the standard library: elements by attribute, visible text."""

from __future__ import annotations

from html.parser import HTMLParser


class Element:
    """A start tag's name and attributes, and the text inside it (until its end tag)."""

    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""


class Collect(HTMLParser):
    """Every element (flat list), with the text it contains."""

    VOID = {"meta", "link", "br", "input", "img", "hr", "line", "col"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, dict(attrs))
        self.elements.append(el)
        if tag == "script":
            self._in_script = True
        if tag not in self.VOID:
            self._open.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)
        for el in self._open:
            el.text += data

    def find(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements with this tag (any if None) whose attributes equal ``attrs`` (``_`` for ``-``)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e for e in self.elements
            if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v for k, v in want.items())
        ]

    def having(self, attr: str, tag: str | None = None) -> list[Element]:
        return [e for e in self.elements if attr in e.attrs and (tag is None or e.tag == tag)]


def parse(html: str) -> Collect:
    c = Collect()
    c.feed(html)
    c.close()
    return c


def chart_values(doc: Collect, chart: str) -> dict[str, int]:
    """{data-key: data-value} of the bars of one chart (parsed in document order)."""
    out: dict[str, int] = {}
    inside = False
    for e in doc.elements:
        if e.tag == "svg":
            inside = e.attrs.get("data-chart") == chart
        elif inside and e.tag == "rect" and "data-key" in e.attrs:
            out[str(e.attrs["data-key"])] = int(str(e.attrs["data-value"]))
    return out

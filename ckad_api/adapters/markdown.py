"""Markdown to sanitised HTML, with code highlighted by Pygments at load time."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")
_ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "del",
    "mark",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "th": {"align"},
    "td": {"align"},
}
_LANGUAGE = re.compile(r"^[A-Za-z0-9_+-]+$")


def _highlight(code: str, info: str, _attrs: object) -> str:
    lang = (info or "").split()[0] if info else ""
    if not lang or not _LANGUAGE.match(lang):
        return ""  # markdown-it escapes it itself
    try:
        lexer = get_lexer_by_name("yaml" if lang == "yml" else lang)
    except ClassNotFound:
        return ""
    return highlight(code, lexer, _FORMATTER)


_MD = (
    MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    .enable("table")
    .enable("strikethrough")
)


def render_markdown(text: str) -> str:
    """Render author Markdown to HTML that is safe to insert into a page."""
    raw = _MD.render(text)
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


_PRE = re.compile(r"<pre>.*?</pre>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _words(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", fragment))).strip()


def plain_text(markdown_text: str) -> tuple[str, str]:
    """(prose, code) of a Markdown text without markup: prose makes snippets, both are indexed."""
    rendered = MarkdownIt("commonmark").enable("table").render(markdown_text)
    code = " ".join(_words(block) for block in _PRE.findall(rendered))
    return _words(_PRE.sub(" ", rendered)), code

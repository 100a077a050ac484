"""The one sanitiser for text the app renders from the catalog or from people.

Chat messages, card fields, the copilot thread and its panels all pass through :func:`escape` (or
:func:`text_html`) before they reach the page. The result can load nothing: markdown and HTML images
are dropped (their alt text kept), links keep their words but lose their address, bare URLs are
replaced, and HTML as well as markdown punctuation is written as entities, so neither the Markdown
renderer nor the browser can turn any of it into an image, a link or a script. The app's
Content-Security-Policy (:data:`CSP`) is the second wall behind it.
"""

from __future__ import annotations

import html
import re
from typing import Any

from retrieval.clean import clean_text

LINK_REMOVED = "(link removed)"
MD_IMAGE = re.compile(r"!\[([^\]]*)\]\s*(?:\([^)]*\)?|\[[^\]]*\]?)")
MD_LINK = re.compile(r"\[([^\]]*)\]\s*(?:\([^)]*\)|\[[^\]]*\])")
MD_REFERENCE = re.compile(r"(?m)^\s{0,3}\[[^\]]+\]:\s*\S+.*$")
HTML_IMAGE = re.compile(
    r"(?is)<\s*(?:img|image|picture|source|video|audio|iframe|object|embed|svg|link|meta)\b[^>]*>?"
)
URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*:)?//\S+|\bwww\.\S+|\b(?:data|javascript|file|ftp|blob):\S+")
MARKDOWN_PUNCTUATION = {"[": "&#91;", "]": "&#93;", "!": "&#33;"}  # no link or image can start
PUNCTUATION = re.compile("|".join(re.escape(k) for k in MARKDOWN_PUNCTUATION))

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; connect-src 'self' ws: wss:; frame-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def plain(value: object) -> str:
    """Text with every image, link address and control character removed (words kept)."""
    text = clean_text(html.unescape(str(value)))
    text = MD_REFERENCE.sub("", text)
    text = MD_IMAGE.sub(lambda m: m.group(1), text)
    text = MD_LINK.sub(lambda m: m.group(1), text)
    text = HTML_IMAGE.sub("", text)
    return URL.sub(LINK_REMOVED, text)


def escape(value: object) -> str:
    """:func:`plain` text escaped for HTML text or a quoted attribute, markdown punctuation as entities."""
    return PUNCTUATION.sub(lambda m: MARKDOWN_PUNCTUATION[m.group(0)], html.escape(plain(value), quote=True))


def text_html(value: object) -> str:
    """:func:`escape` with line breaks kept (for chat messages and the copilot thread)."""
    return escape(value).replace("\n", "<br>")


class ContentSecurityPolicy:
    """ASGI middleware: every HTTP response of the app carries :data:`CSP` (no remote images or scripts)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @classmethod
    def middleware(cls) -> Any:
        from starlette.middleware import Middleware

        return Middleware(cls)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", CSP.encode("ascii"))]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)

"""Messages as PDF/A documents people can read: the dispatch for the normaliser's render hints.

``render_message(data, "kith")`` or ``render_message(data, "hl7v2")`` builds a readable page of one
message (:mod:`formats.message_render_kith`, :mod:`formats.message_render_hl7`) and renders it to
PDF/A-2b with :func:`formats.pdf_html.render_html`. It never raises: a message that cannot be
rendered gets ``pdf=None`` and a status ``not_normalised: <reason>`` (the original is kept anyway).

Status vocabulary: ``rendered`` (a readable PDF/A rendition of a structured message, verified by
pikepdf's validator), ``not_normalised: <reason>``.
"""

from __future__ import annotations

from collections.abc import Callable

from formats.errors import ConversionError
from formats.message_render_hl7 import render_hl7
from formats.message_render_kith import KithRenderError, render_kith
from formats.message_render_page import Page
from formats.pdf_html import render_html
from formats.rendition import Rendition

RENDERED = "rendered"
RENDERERS: dict[str, Callable[[bytes], Page]] = {"kith": render_kith, "hl7v2": render_hl7}


def render_message(data: bytes, render: str) -> Rendition:
    """Render one message (``render`` is ``kith`` or ``hl7v2``) as a verified PDF/A-2b; never raises.

    Args:
        data: the message bytes, exactly as kept in ``originals/messages/``.
        render: the render hint given to ``Emit.original``.

    Returns:
        The rendition with status ``rendered``, or ``pdf=None`` and ``not_normalised: <reason>``.

    Example:
        >>> r = render_message(b"MSH|^~\\\\&|LAB||GP||20240101||ORU^R01|1|P|2.5\\r", "hl7v2")
        >>> (r.status, r.page_count)
        ('rendered', 1)
    """
    renderer = RENDERERS.get(render)
    if renderer is None:
        return Rendition(None, f"not_normalised: no renderer for {render!r} messages")
    try:
        page = renderer(data)
        rendered = render_html(page.html())
    except KithRenderError as exc:
        return Rendition(None, f"not_normalised: {exc}")
    except ConversionError as exc:
        return Rendition(None, f"not_normalised: {exc.message} ({exc.hint})" if exc.hint else exc.message)
    except (ValueError, IndexError, KeyError, UnicodeError, RecursionError) as exc:
        return Rendition(None, f"not_normalised: the message could not be laid out ({type(exc).__name__})")
    return Rendition(rendered.pdf, RENDERED, rendered.page_count, page.text())

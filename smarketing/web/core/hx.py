"""htmx conventions kept in one place: header names and the fragment-or-page choice.

No other module reads htmx's request headers: a view asks ``wants_fragment`` (or
``page_or_fragment``) with the ids its templates' ``hx-target`` names, and the few
answers that are the same for every htmx request (an error's fragment, a redirect
htmx follows itself) ask ``is_htmx``.
"""

from flask import Flask, Response, render_template, request

HX_REQUEST = "HX-Request"
HX_TARGET = "HX-Target"
HX_TRIGGER = "HX-Trigger"
HX_PUSH_URL = "HX-Push-Url"
HX_RETARGET = "HX-Retarget"
HX_RESWAP = "HX-Reswap"
HX_LOCATION = "HX-Location"


def is_htmx() -> bool:
    """Any htmx request, wherever its answer goes (a boosted link's too).

    Only for answers that do not depend on where they are swapped: an error's
    fragment, a redirect htmx performs itself. A page or a part of it is
    ``wants_fragment``'s choice."""
    return bool(request.headers.get(HX_REQUEST))


def wants_fragment(*targets: str) -> bool:
    """A fragment only for htmx requests aimed at one of ``targets``.

    Boosted links also send HX-Request, so the target decides, not the header alone.
    htmx sends the target element's id, without '#'; a request aimed elsewhere, or at
    an element without an id (a boosted link swaps the whole body), gets the page.
    """
    return is_htmx() and request.headers.get(HX_TARGET) in targets


def page_or_fragment(
    page_template: str, fragment: str, targets: tuple[str, ...], **context: object
) -> Response:
    template = fragment if wants_fragment(*targets) else page_template
    return vary_on_htmx(Response(render_template(template, **context)))


def vary_on_htmx(response: Response) -> Response:
    """Pages answer a fragment or a whole page depending on htmx's headers, so a shared
    cache (a proxy, the browser's back button) must key on them too."""
    response.vary.add(HX_REQUEST)
    response.vary.add(HX_TARGET)
    return response


def _vary_html_on_htmx(response: Response) -> Response:
    if response.mimetype == "text/html":
        vary_on_htmx(response)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary_html_on_htmx)

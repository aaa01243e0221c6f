"""htmx conventions kept in one place: header names and the fragment-or-page choice."""

from flask import Flask, Response, render_template, request

HX_REQUEST = "HX-Request"
HX_TARGET = "HX-Target"
HX_TRIGGER = "HX-Trigger"
HX_PUSH_URL = "HX-Push-Url"
HX_RETARGET = "HX-Retarget"
HX_RESWAP = "HX-Reswap"


def wants_fragment(*targets: str) -> bool:
    """A fragment only for htmx requests aimed at one of ``targets``.

    Boosted links also send HX-Request, so the target decides, not the header alone.
    """
    return bool(request.headers.get(HX_REQUEST)) and request.headers.get(HX_TARGET) in targets


def page_or_fragment(
    page_template: str, fragment: str, targets: tuple[str, ...], **context: object
) -> Response:
    template = fragment if wants_fragment(*targets) else page_template
    response = Response(render_template(template, **context))
    response.vary.add(HX_REQUEST)
    response.vary.add(HX_TARGET)
    return response


def _vary_on_htmx(response: Response) -> Response:
    """Pages answer a fragment or a whole page depending on htmx's headers, so a shared
    cache (a proxy, the browser's back button) must key on them too."""
    if response.mimetype == "text/html":
        response.vary.add(HX_REQUEST)
        response.vary.add(HX_TARGET)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary_on_htmx)

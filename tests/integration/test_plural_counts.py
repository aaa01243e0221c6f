"""A count inside a plural message reads in the reader's notation, as every other figure:
"7.158 MQLs", not "7158 MQLs" (a page showed both for one number)."""

from flask import Flask, render_template_string

from smarketing.present.formatting import ngettext

WAITING = "%(num)d MQLs are waiting for a first contact beyond %(hours)s hours."


def test_counts_in_plural_messages_are_formatted(web_app: Flask) -> None:
    template = (
        "{{ ngettext('%(num)d MQL is waiting for a first contact beyond %(hours)s hours.', "
        f"'{WAITING}', n, hours=24) }}}}"
    )
    with web_app.test_request_context(headers={"Accept-Language": "es"}):
        assert render_template_string(template, n=7158) == (
            "7.158 MQLs llevan más de 24 horas esperando un primer contacto."
        )
        assert ngettext("%(num)d without amount", "%(num)d without amount", 1207) == "1.207 sin importe"
    with web_app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(template, n=7158).startswith("7,158 MQLs are waiting")
        assert render_template_string(template, n=1).startswith("1 MQL is waiting")

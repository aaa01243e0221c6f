"""An import read in Spanish says why each row was refused, and what each warning means,
in Spanish: on the result page and in the rejects and warnings CSV (Spanish spreadsheet
convention); the same import read in English says it in English."""

import csv
import html
import io
import time

from flask import Flask
from flask.testing import FlaskClient

from smarketing.importing.messages import say
from smarketing.importing.run import ImportResult
from smarketing.web.data.imports import JOBS
from tests.integration.conftest import LoginFn

LEADS = (
    "key,name,email,source,captured_at\n"
    "k1,Ana Ruiz,ana@example.com,web,2025-03-03\n"
    "k2,Carl,not-an-email,web,2025-03-05\n"  # the domain's e-mail rule
    "k3,Dan,dan@example.com,web,31/02/2025\n"  # no such day
    "k4,Eva,eva@example.com,web,March 3rd\n"  # not a supported format
    "k1,Fede,fede@example.com,web,2025-03-06\n"  # the key again
    "k5,Gil,gil@example.com,web,2025-03-06,extra\n"  # a cell too many
    ',,"",web,2025-03-06\n'  # neither key nor e-mail
    'k6,"Hugo" Paz,hugo@example.com,web,2025-03-06\n'  # text after a closing quote
    'k7,"Ines,ines@example.com,web,2025-03-06\n'  # a quote never closed
    "k8,Juan,juan@example.com,web,2025-03-07\n"
)
DEALS = (
    "key,owner,team,stage,stage_at,won_at,amount,currency\n"
    "k1,rep-1,sales,,,2025-03-01 10:00,1500,EUR\n"  # won before its capture: a warning
    "k9,rep-1,sales,,,2025-04-01 10:00,100,EUR\n"  # no such lead
    "k8,rep-1,sales,Won,2025-04-01,,,\n"  # not a stage
    "k8,rep-1,sales,,,2025-04-02 10:00,12.000,EUR\n"  # thousands or decimals?
)
KINDS_OF_BAD_LEADS = 8
LEAD_COLUMNS = ("key", "name", "email", "source", "captured_at")
DEAL_COLUMNS = ("key", "owner", "team", "stage", "stage_at", "won_at", "amount", "currency")


def _import(client: FlaskClient, text: str, preset: str, fields: tuple[str, ...]) -> tuple[str, ImportResult]:
    file = (io.BytesIO(text.encode()), "file.csv")
    uploaded = client.post("/import/", data={"file": file, "preset": preset})
    assert uploaded.status_code == 303, uploaded.get_data(as_text=True)[:500]
    upload = uploaded.headers["Location"].split("/")[2]
    form = {"preset": preset, "tz": "Europe/Madrid"} | {f"col_{f}": f for f in fields}
    started = client.post(f"/import/{upload}/run", data=form)
    job_url = started.headers["Location"]
    for _ in range(400):
        page = client.get(job_url).get_data(as_text=True)
        if "every 500ms" not in page:
            break
        time.sleep(0.05)
    job = JOBS[job_url.rsplit("/", 1)[1]]
    assert job.result is not None, job.failure
    return job_url, job.result


def _reasons_in(app: Flask, result: ImportResult, lang: str) -> list[str]:
    """Every reason of the import (rejected rows, then warnings) as a reader in ``lang`` reads it."""
    with app.test_request_context(headers={"Accept-Language": lang}):
        return [say(e.why) for e in result.errors] + [say(w.why) for w in result.warnings]


def _csv_column(client: FlaskClient, url: str, column: int) -> tuple[list[str], list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the accents
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";" if ";" in text.splitlines()[0] else ","))
    return rows[0], [row[column] for row in rows[1:]]


def test_a_spanish_import_reads_every_reason_in_spanish_and_english_in_english(
    web_app: Flask, login: LoginFn
) -> None:
    spanish = login(web_app.test_client(), "manager", lang="es")
    leads_url, leads = _import(spanish, LEADS, "leads", LEAD_COLUMNS)
    deals_url, deals = _import(spanish, DEALS, "deals", DEAL_COLUMNS)
    assert (leads.imported, len(leads.errors)) == (2, KINDS_OF_BAD_LEADS)
    assert (deals.imported, len(deals.errors), len(deals.warnings)) == (1, 3, 1)

    for url, result in ((leads_url, leads), (deals_url, deals)):
        english = [str(e.why) for e in result.errors] + [str(w.why) for w in result.warnings]
        in_spanish = _reasons_in(web_app, result, "es")
        assert all(es != en for es, en in zip(in_spanish, english, strict=True)), in_spanish
        assert not [reason for reason in in_spanish if " or " in reason]
        page = html.unescape(spanish.get(url).get_data(as_text=True))
        assert all(reason in page for reason in in_spanish)
        assert not [reason for reason in english if reason in page]
        header, reasons = _csv_column(spanish, url + "/rejects.csv", 2)
        assert header[:3] == ["fila", "columna", "motivo"]
        assert reasons == in_spanish[: len(result.errors)]
    leads_in_spanish = "\n".join(_reasons_in(web_app, leads, "es"))
    assert "no es una dirección de correo electrónico válida" in leads_in_spanish
    assert "unas comillas abiertas en esta fila no se cierran nunca" in leads_in_spanish
    header, warnings = _csv_column(spanish, deals_url + "/warnings.csv", 3)
    assert header == ["tipo", "fila", "columna", "aviso"]
    assert warnings == [
        "1/3/25, 10:00 es anterior a la captación del lead (3/3/25, 0:00); se importa tal como consta"
    ]

    english = login(web_app.test_client(), "manager", lang="en")
    in_english = [str(e.why) for e in leads.errors]
    page = html.unescape(english.get(leads_url).get_data(as_text=True))
    assert all(reason in page for reason in in_english)
    header, reasons = _csv_column(english, leads_url + "/rejects.csv", 2)
    assert header[:3] == ["row", "column", "reason"] and reasons == in_english


def test_file_and_mapping_refusals_read_in_spanish(web_app: Flask, login: LoginFn) -> None:
    spanish = login(web_app.test_client(), "manager", lang="es")
    empty = spanish.post("/import/", data={"file": (io.BytesIO(b""), "empty.csv"), "preset": "leads"})
    assert empty.status_code == 422 and "El archivo está vacío." in empty.get_data(as_text=True)
    file = (io.BytesIO(LEADS.encode()), "leads.csv")
    uploaded = spanish.post("/import/", data={"file": file, "preset": "leads"})
    upload = uploaded.headers["Location"].split("/")[2]
    unmapped = spanish.get(f"/import/{upload}/mapping?preset=leads&col_key=&col_email=")
    assert unmapped.status_code == 422
    page = html.unescape(unmapped.get_data(as_text=True))
    assert "Asigne una columna a 'key' o a 'email': una de ellas identifica cada lead." in page

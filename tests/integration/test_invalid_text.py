"""Broken text in a form (a lone surrogate, bytes that are not UTF-8, NUL) is refused
with 400 and a message in the reader's language; nothing is stored."""

from flask import Flask

from smarketing.bootstrap import Services

FORM = "application/x-www-form-urlencoded"
BROKEN = ["%ED%B3%BF", "%FF", "Ana%00", "%ED%A0%80x", "a%1Bb"]


def _post_lead(client, name: str):  # type: ignore[no-untyped-def]
    body = f"name={name}&email=ana%40example.com&source=web"
    return client.post("/leads/new", data=body, content_type=FORM)


def test_broken_text_in_a_form_is_refused_in_the_readers_language(
    services: Services, web_app: Flask, login
) -> None:
    client = login(web_app.test_client(), "marketing")
    events = services.app.recorder.max_notification_id()
    for broken in BROKEN:
        response = _post_lead(client, broken)
        assert response.status_code == 400, broken
        assert "“Name” holds text that cannot be read" in response.get_data(as_text=True), broken
    spanish = login(web_app.test_client(), "marketing", "es")
    page = _post_lead(spanish, BROKEN[0]).get_data(as_text=True)
    assert "“Nombre” contiene texto que no se puede leer" in page
    fragment = spanish.post(
        "/leads/new", data=f"name={BROKEN[0]}", content_type=FORM, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 400 and "<html" not in fragment.get_data(as_text=True)
    assert services.app.recorder.max_notification_id() == events
    assert _post_lead(client, "Ana%20%C3%91u%C3%B1ez%20%F0%9F%99%82").status_code == 303  # real UTF-8 passes


def test_broken_text_in_a_query_or_an_upload_is_refused(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "manager")
    assert client.get("/leads/?q=%ED%B3%BF").status_code == 400
    assert client.get("/leads/?q=a%00").status_code == 400
    assert client.get("/leads/?q=%C3%B1").status_code == 200
    boundary = "xyz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="preset"\r\n\r\n'.encode()
        + b"\xed\xb3\xbf\r\n"
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'.encode()
        + b"Content-Type: text/csv\r\n\r\nname,email\r\nAna,ana@example.com\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    response = client.post("/import/", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400 and b"cannot be read" in response.data


def test_the_json_api_still_answers_in_json(services: Services, web_app: Flask) -> None:
    response = web_app.test_client().post("/api/v1/leads?x=%FF", data="x", content_type=FORM)
    assert response.status_code == 401 and response.is_json

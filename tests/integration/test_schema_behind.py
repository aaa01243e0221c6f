"""A store whose schema is older than the code (a table this version reads is missing)
is told apart from a busy one: the page asks for `flask db init`, in the reader's
language, instead of "wait a few seconds" or a 500 (both backends)."""

from sqlalchemy import text

from smarketing.bootstrap import Services


def test_a_missing_table_asks_for_db_init(services: Services, make_web_app, login) -> None:
    app = make_web_app()
    spanish = login(app.test_client(), "manager", "es")
    assert spanish.get("/leads/").status_code == 200
    with services.projector.engine.begin() as conn:  # as a store set up before the table existed
        conn.execute(text("DROP TABLE lead_summary"))

    page = spanish.get("/leads/")

    body = page.get_data(as_text=True)
    assert page.status_code == 503, body[:300]
    assert "flask db init" in body and "La base de datos no está preparada" in body
    assert "ocupada" not in body and "Traceback" not in body
    fragment = spanish.get("/leads/", headers={"HX-Request": "true", "HX-Target": "lead-rows"})
    assert fragment.status_code == 503 and "flask db init" in fragment.get_data(as_text=True)

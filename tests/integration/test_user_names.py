"""User names are one name whatever their case, and an installation always keeps an admin."""

import threading

import pytest
from flask import Flask

from domain.errors import InvalidInput
from smarketing.bootstrap import Services
from smarketing.service import users
from tests.integration.conftest import ensure_user, password_for


def test_names_are_unique_and_log_in_whatever_their_case(services: Services, web_app: Flask, login) -> None:
    admin = login(web_app.test_client(), "admin")
    assert (
        admin.post(
            "/users/", data={"username": "Eva", "role": "sales", "password": "long-enough"}
        ).status_code
        == 200
    )
    again = admin.post("/users/", data={"username": "EVA", "role": "manager", "password": "long-enough"})
    assert again.status_code == 422 and b"User name: is already taken" in again.data
    assert [u.username for u in users.list_users(services.read_engine)].count("eva") == 1
    for typed in ("EVA", " Eva ", "eva"):
        response = web_app.test_client().post("/login", data={"username": typed, "password": "long-enough"})
        assert response.status_code == 303, typed


@pytest.mark.parametrize("written", ["TEST-ADMIN", "Test-Admin", " test-admin"])
def test_an_admin_cannot_demote_themselves_by_writing_their_name_in_another_case(
    written: str, services: Services, web_app: Flask, login
) -> None:
    client = login(web_app.test_client(), "admin")
    for change in ({"role": "sales", "active": "1"}, {"role": "admin"}):
        response = client.post(f"/users/{written}", data=change)
        assert response.status_code == 422 and b"cannot remove your own admin access" in response.data
    user = users.get_user(services.read_engine, "test-admin")
    assert user is not None and user.role == "admin" and user.active
    assert client.get("/users/").status_code == 200


def test_the_last_admin_can_never_be_demoted_or_disabled(services: Services, web_app: Flask, login) -> None:
    ensure_user(web_app, "admin", "root")
    engine = services.write_engine
    for change in ({"role": "manager"}, {"active": False}):
        with pytest.raises(InvalidInput, match="last admin"):
            users.update_user(engine, actor="cli", username="ROOT", **change)  # type: ignore[arg-type]
    ensure_user(web_app, "admin", "second")
    users.update_user(
        engine, actor="cli", username="second", active=False
    )  # an inactive admin does not count
    with pytest.raises(InvalidInput, match="last admin"):
        users.update_user(engine, actor="cli", username="root", role="sales")
    users.update_user(engine, actor="cli", username="second", active=True)
    users.update_user(engine, actor="cli", username="root", role="sales")  # "second" is still admin
    with pytest.raises(InvalidInput, match="last admin"):
        users.update_user(engine, actor="cli", username="second", active=False)
    roles = {u.username: (u.role, u.active) for u in users.list_users(services.read_engine)}
    assert roles["second"] == ("admin", True) and roles["root"] == ("sales", True)


def test_refusals_on_the_users_page_read_spanish(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "admin", "es")
    own = client.post("/users/TEST-ADMIN", data={"role": "sales", "active": "1"}).get_data(as_text=True)
    assert "No puedes quitarte tu propio acceso de administrador." in own
    short = client.post("/users/", data={"username": "bob", "role": "sales", "password": "short"})
    assert "Contraseña: debe tener al menos 8 caracteres" in short.get_data(as_text=True)
    taken = client.post(
        "/users/", data={"username": "TEST-ADMIN", "role": "sales", "password": password_for("x")}
    )
    assert "Nombre de usuario: ya está en uso" in taken.get_data(as_text=True)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(services: Services, web_app: Flask) -> None:
    """Each demotion alone is allowed (another admin remains); at once, the locked
    admin rows let exactly one through."""
    for name in ("ann", "bob"):
        ensure_user(web_app, "admin", name)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def demote(name: str) -> None:
        start.wait()
        try:
            users.update_user(services.write_engine, actor=name, username=name, role="sales")
            outcomes[name] = "demoted"
        except InvalidInput:
            outcomes[name] = "refused"

    threads = [threading.Thread(target=demote, args=(name,)) for name in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["demoted", "refused"]
    admins = [u.username for u in users.list_users(services.read_engine) if u.role == "admin" and u.active]
    assert len(admins) == 1

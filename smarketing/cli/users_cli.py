"""``flask users ...``: create the first admin and add users from the terminal."""

import getpass
import sys

import click
from flask.cli import AppGroup

from domain.errors import InvalidInput
from smarketing.bootstrap import schema_exists
from smarketing.extensions import services
from smarketing.service import users as user_store

users_cli = AppGroup("users", help="People who may log in.")

password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


def _cli_actor() -> str:
    """Audit entries from the terminal name the operating-system user who ran them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _create(username: str, role: str, from_stdin: bool, display_name: str) -> None:
    svc = services()
    if not schema_exists(svc):
        raise click.ClickException("The database is not set up: run `flask db init` first.")
    try:
        user = user_store.create_user(
            svc.write_engine,
            actor=_cli_actor(),
            username=username,
            role=role,
            password=_password(from_stdin),
            display_name=display_name,
        )
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"User {user.username} ({user.role}) created.")


@users_cli.command("create-admin")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Display name (default: the user name).")
@password_stdin
def create_admin(username: str, display_name: str, password_stdin: bool) -> None:
    """Create a user with the admin role (manages users)."""
    _create(username, "admin", password_stdin, display_name)


@users_cli.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(user_store.ROLES))
@click.option("--name", "display_name", default="", help="Display name (default: the user name).")
@password_stdin
def add(username: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Create a user with the given role."""
    _create(username, role, password_stdin, display_name)


@users_cli.command("away")
@click.argument("username")
@click.option(
    "--on/--off", "on", default=True, help="Mark the user away (skipped by assignment rules) or back."
)
def away_command(username: str, on: bool) -> None:
    """Mark a user out of office (--on) or back (--off)."""
    from smarketing.service import away

    try:
        away.set_away(services().write_engine, actor=_cli_actor(), username=username, away=on)
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{username}: {'away' if on else 'back'}")


def demo_password(role: str) -> str:
    return f"demo-{role}"


def create_demo_users() -> list[str]:
    """One user per role, password ``demo-<role>``: for demo data only, never production.

    Returns the user names created (existing ones are left alone)."""
    engine = services().write_engine
    created = []
    for role in user_store.ROLES:
        username = f"demo-{role}"
        if user_store.get_user(engine, username) is None:
            user_store.create_user(
                engine,
                actor="demo-data",
                username=username,
                role=role,
                password=demo_password(role),
                display_name=f"Demo {role}",
            )
            created.append(username)
    return created


def echo_demo_users(created: list[str]) -> None:
    if created:
        click.echo("Demo users (password = user name; demo only):")
        for username in created:
            click.echo(f"  {username}  /  {username}")

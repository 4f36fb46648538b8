"""Users, roles, sessions and CSRF in the domain layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from coordinator.db.database import Database
from coordinator.domain import users
from coordinator.errors import Conflict, Forbidden, InvalidInput, Unauthorized

PASSWORD = "correct horse battery"


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    a, b = users.hash_password(PASSWORD), users.hash_password(PASSWORD)
    assert a.startswith("scrypt$") and a != b
    assert PASSWORD not in a
    assert users.verify_password(PASSWORD, a)
    assert not users.verify_password(PASSWORD + "!", a)
    assert not users.verify_password(PASSWORD, "not a hash")


def test_roles_allow_only_their_actions() -> None:
    assert all(users.allowed(r, "view") for r in users.ROLES)
    assert [r for r in users.ROLES if users.allowed(r, "projects.manage")] == ["admin", "manager"]
    assert [r for r in users.ROLES if users.allowed(r, "nodes.manage")] == ["admin"]
    assert not any(users.allowed("viewer", a) for a in users.PERMISSIONS if a != "view")
    assert not users.allowed("admin", "no-such-action")


def test_viewer_checks_role_and_csrf() -> None:
    v = users.Viewer(1, "v", "viewer", "tok")
    with pytest.raises(Forbidden):
        v.require("projects.manage")
    for bad in (None, "", "tok2"):
        with pytest.raises(Forbidden):
            v.check_csrf(bad)
    v.check_csrf("tok")


async def test_login_session_and_logout(db: Database) -> None:
    async with db.transaction() as s:
        await users.create_user(s, "alice", PASSWORD, "manager", 100.0)
    async with db.transaction() as s:
        token, viewer = await users.log_in(s, "alice", PASSWORD, 200.0)
    assert viewer.role == "manager" and viewer.csrf_token
    async with db.transaction() as s:
        again = await users.authenticate(s, token, 300.0)
    assert again == viewer
    async with db.transaction() as s:
        await users.log_out(s, token, 400.0)
    async with db.transaction() as s:
        with pytest.raises(Unauthorized):
            await users.authenticate(s, token, 401.0)


async def test_sessions_expire(db: Database) -> None:
    async with db.transaction() as s:
        await users.create_user(s, "bob", PASSWORD, "viewer", 0.0)
        token, _ = await users.log_in(s, "bob", PASSWORD, 0.0)
    async with db.transaction() as s:
        await users.authenticate(s, token, users.SESSION_SECONDS - 1)
        with pytest.raises(Unauthorized):
            await users.authenticate(s, token, users.SESSION_SECONDS)


@pytest.mark.parametrize("name, password", [("alice", "wrong password"), ("nobody", PASSWORD)])
async def test_bad_credentials_are_refused_and_logged(db: Database, name: str, password: str) -> None:
    async with db.transaction() as s:
        await users.create_user(s, "alice", PASSWORD, "admin", 0.0)
    with pytest.raises(Unauthorized, match="wrong user name or password"):
        async with db.transaction() as s:
            await users.log_in(s, name, password, 1.0)


async def test_bad_new_users_are_refused(db: Database) -> None:
    async with db.transaction() as s:
        await users.create_user(s, "alice", PASSWORD, "admin", 0.0)
    for name, password, role, error in [("alice", PASSWORD, "viewer", Conflict),
                                        ("carol", "short", "viewer", InvalidInput),
                                        ("carol", PASSWORD, "root", InvalidInput),
                                        ("<script>", PASSWORD, "viewer", InvalidInput)]:
        with pytest.raises(error):
            async with db.transaction() as s:
                await users.create_user(s, name, password, role, 1.0)
    async with db.transaction() as s:
        assert [u.name for u in await users.list_users(s)] == ["alice"]

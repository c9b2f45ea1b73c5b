"""Admins manage users and API tokens through the API too."""

import pytest

from tests.factories import assert_problem


@pytest.fixture
def admin_api(api):
    return api.as_role("admin")


def test_an_admin_creates_a_user_and_a_token_that_works_until_revoked(admin_api, client):
    response = admin_api.post(
        "/api/v1/users", json={"email": "Bot@News.example", "role": "editor", "name": "Bot"}
    )
    assert response.status_code == 201
    user = response.get_json()
    assert (user["email"], user["role"], user["has_password"]) == (
        "bot@news.example",
        "editor",
        False,
    )
    response = admin_api.post(f"/api/v1/users/{user['id']}/tokens", json={"label": "wire feed"})
    assert response.status_code == 201
    token = response.get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/blogs", headers=bearer).status_code == 200

    listed = {u["email"]: u for u in admin_api.get("/api/v1/users").get_json()["items"]}
    [listed_token] = listed["bot@news.example"]["tokens"]
    assert listed_token["label"] == "wire feed" and listed_token["revoked_at"] is None
    assert token not in str(listed)
    assert admin_api.delete(f"/api/v1/tokens/{listed_token['id']}").status_code == 204
    assert client.get("/api/v1/blogs", headers=bearer).status_code == 401


def test_an_admin_changes_a_role_and_deactivates(admin_api, api):
    user_id = api.user.id
    response = admin_api.patch(f"/api/v1/users/{user_id}", json={"role": "contributor"})
    assert response.get_json()["role"] == "contributor"
    response = admin_api.patch(f"/api/v1/users/{user_id}", json={"active": False})
    assert response.get_json()["active"] is False
    assert api.get("/api/v1/blogs").status_code == 401
    problem = assert_problem(
        admin_api.patch(f"/api/v1/users/{admin_api.user.id}", json={"active": False}), 403
    )
    assert "another admin" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope", "role": "editor"}, "email"),
        ({"email": "a@news.example", "role": "boss"}, "role"),
        ({"email": "a@news.example", "role": "editor", "password": "short"}, "password"),
        ({"role": "editor"}, "email"),
    ],
)
def test_invalid_users_are_refused_with_the_field_named(admin_api, body, field):
    problem = assert_problem(admin_api.post("/api/v1/users", json=body), 422)
    assert problem["errors"][0]["field"] == field


def test_only_admins_manage_users(api):
    assert_problem(api.get("/api/v1/users"), 403)
    assert_problem(api.post("/api/v1/users", json={"email": "a@b.example", "role": "admin"}), 403)
    assert_problem(api.patch(f"/api/v1/users/{api.user.id}", json={"role": "admin"}), 403)
    assert_problem(api.post(f"/api/v1/users/{api.user.id}/tokens", json={}), 403)
    assert_problem(api.delete("/api/v1/tokens/1"), 403)


def test_unknown_users_and_tokens_are_404(admin_api):
    assert_problem(admin_api.patch("/api/v1/users/9999", json={"role": "editor"}), 404)
    assert_problem(admin_api.post("/api/v1/users/9999/tokens", json={}), 404)
    assert_problem(admin_api.delete("/api/v1/tokens/9999"), 404)

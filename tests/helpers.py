"""Assertions shared by the API tests."""


def assert_error(response, status: int, code: str = "invalid_parameter") -> None:
    """The answer is the API's JSON error: the status, the code and a message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]

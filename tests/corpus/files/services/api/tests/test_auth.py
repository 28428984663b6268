import pytest

from app.auth import hash_password, verify_password

TEST_PASSWORD = "Sup3r-P@ssw0rd!2024"
WRONG_PASSWORD = "not-the-password"


@pytest.mark.parametrize("token_type", ["bearer", "mac"])
def test_round_trip(token_type):
    hashed = hash_password(TEST_PASSWORD)
    assert verify_password(TEST_PASSWORD, hashed)
    assert not verify_password(WRONG_PASSWORD, hashed)

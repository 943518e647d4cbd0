"""Password hashing."""

from service.passwords import hash_password, verify_password


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second
    assert "s3cret" not in first
    assert first.startswith("scrypt$")
    assert verify_password("s3cret", first)
    assert not verify_password("s3cret!", first)


def test_garbage_hashes_never_verify() -> None:
    assert not verify_password("x", "")
    assert not verify_password("x", "scrypt$a$b$c$d$e")
    assert not verify_password("x", "bcrypt$1$2$3$4$5")

from app.services.passwords import hash_password, needs_rehash, verify_password


def test_hash_is_argon2id_and_salted():
    first, second = hash_password("a long passphrase"), hash_password("a long passphrase")
    assert first.startswith("$argon2id$")
    assert first != second
    assert not needs_rehash(first)


def test_verify_accepts_only_the_right_password():
    stored = hash_password("a long passphrase")
    assert verify_password(stored, "a long passphrase")
    assert not verify_password(stored, "a long passphrasE")
    assert not verify_password(stored, "")


def test_verify_without_an_account_is_false():
    assert not verify_password(None, "anything at all")
    assert not verify_password("not-a-hash", "anything at all")

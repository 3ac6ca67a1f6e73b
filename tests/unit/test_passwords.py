from app.services.auth.passwords import hash_password, needs_rehash, verify_password


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


def test_production_work_factor_is_rfc_9106_low_memory():
    # The tests hash at a light work factor (tests/conftest.py light_password_hashing); production must not.
    from tests import conftest

    hasher = conftest.PRODUCTION_PASSWORD_HASHER
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 64 * 1024, 4)
    assert hasher.type.name == "ID"

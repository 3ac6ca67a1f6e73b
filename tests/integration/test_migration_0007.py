"""Migration 0007 gives databases seeded before it the "nude portrait" rule, once."""

from pathlib import Path

from alembic.config import Config
from sqlalchemy import create_engine, text

from alembic import command

ROOT = Path(__file__).resolve().parents[2]


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    return config


def test_an_older_database_gets_the_rule_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(_config(url), "0006")
    engine = create_engine(url)
    rule = "term LIKE '%portrait%'"
    with engine.begin() as conn:  # as a database seeded before the rule existed
        conn.execute(text(f"DELETE FROM denylist_term WHERE {rule}"))
    command.upgrade(_config(url), "head")
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM denylist_term WHERE {rule}")).scalar() == 1
    command.downgrade(_config(url), "0006")
    command.upgrade(_config(url), "head")
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM denylist_term WHERE {rule}")).scalar() == 1
    engine.dispose()

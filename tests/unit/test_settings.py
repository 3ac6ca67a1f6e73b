import pytest
from pydantic import ValidationError

from app.settings import DEFAULT_SECRET, Settings

STRONG = "x" * 40


def make(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_development_defaults_fill_urls(tmp_path):
    settings = make(data_dir=tmp_path, port=3100)
    assert settings.public_url == "http://localhost:3100"
    assert settings.allowed_origins == ["http://localhost:3100"]
    assert settings.database_url == f"sqlite:///{(tmp_path / 'atelier.db').resolve()}"
    assert not settings.is_https


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(app_env="production", secret_key=DEFAULT_SECRET)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(app_env="production", secret_key="short")


def test_production_refuses_wildcard_origins():
    with pytest.raises(ValidationError, match="ALLOWED_ORIGINS"):
        make(app_env="production", secret_key=STRONG, allowed_origins="*")


def test_production_accepts_explicit_origins():
    settings = make(app_env="production", secret_key=STRONG, public_url="https://studio.example.com/",
                    allowed_origins="https://studio.example.com, https://admin.example.com/")
    assert settings.allowed_origins == ["https://studio.example.com", "https://admin.example.com"]
    assert settings.public_url == "https://studio.example.com"
    assert settings.is_https


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("PORT", "4321")
    monkeypatch.setenv("ALLOWED_ORIGINS", "http://a.test,http://b.test")
    settings = Settings(_env_file=None)
    assert settings.port == 4321
    assert settings.allowed_origins == ["http://a.test", "http://b.test"]


def test_redis_purposes_use_separate_databases():
    settings = make(redis_url="redis://cache.internal:6380/2")
    assert settings.redis_db_url(0) == "redis://cache.internal:6380/2"
    assert settings.redis_db_url(1) == "redis://cache.internal:6380/3"
    assert make().redis_db_url(1) == "redis://127.0.0.1:6379/1"


def test_bad_port_is_refused():
    with pytest.raises(ValidationError):
        make(port=70000)


def test_env_example_documents_every_setting_and_loads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / ".env.example"
    documented = {line.split("=", 1)[0].lower() for line in path.read_text().splitlines()
                  if line and not line.startswith("#")}
    assert set(Settings.model_fields) <= documented
    settings = Settings(_env_file=str(path))
    assert settings.port == 3000 and settings.public_url == "http://localhost:3000"


def test_image_timeouts_per_provider_from_json(monkeypatch):
    from app.providers.http import image_options as _http

    monkeypatch.setenv("IMAGE_TIMEOUTS", '{"a1111": 600, "comfyui": 300.5}')
    settings = Settings(_env_file=None)
    assert _http(settings, "a1111").read_timeout == 600 and _http(settings, "comfyui").read_timeout == 300.5
    assert _http(settings, "openai").read_timeout == settings.image_timeout_seconds == 120
    for bad, says in (('{"dalle": 60}', "providers are local, openai"), ('{"a1111": 0}', "more than 0"),
                      ('{"a1111": 7200}', "at most 3600"), ('{"a1111": "slow"}', "valid number")):
        monkeypatch.setenv("IMAGE_TIMEOUTS", bad)
        with pytest.raises(ValidationError, match=says):
            Settings(_env_file=None)

"""The providers file: parsing, validation with line numbers, keys, and request resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import ProvidersFileError, load_providers, parse_providers
from storyreel_core.providers.registry import ProviderRegistry

GOOD = """\
[[provider]]
name = "cloud"
type = "openai"
base_url = "https://api.example.com/v1"
api_key_env = "CLOUD_KEY"
text_model = ["small", "large"]
max_concurrency = 2
requests_per_minute = 30
fallback = ["local"]
prices = { input_per_1m_tokens = 0.5, output_per_1m_tokens = 1.5 }

[[provider]]
name = "local"
type = "openai"
base_url = "http://127.0.0.1:8080/v1"
text_model = "smollm2"
"""


def test_unset_file_means_offline_alone() -> None:
    providers = load_providers(None)
    assert [p.name for p in providers] == ["offline"]
    registry = ProviderRegistry(providers)
    choice = registry.resolve("text", None, None)
    assert (choice.provider, choice.model, choice.offline) == ("offline", "rule-based", True)


def test_a_good_file_resolves_models_and_keeps_offline() -> None:
    providers = parse_providers(GOOD, environ={"CLOUD_KEY": "sk-test-1234"})
    registry = ProviderRegistry(providers)
    assert registry.names("text") == ["cloud", "local", "offline"]
    assert registry.resolve("text", "cloud", None).model == "small"
    assert registry.resolve("text", "cloud", "large").model == "large"
    assert registry.resolve("text", "local", "").model == "smollm2"
    assert providers[0].api_key is not None
    assert providers[0].api_key.get_secret_value() == "sk-test-1234"


def test_the_key_can_come_from_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("sk-from-file\n")
    providers = parse_providers(GOOD, environ={"CLOUD_KEY_FILE": str(secret)})
    assert providers[0].api_key is not None
    assert providers[0].api_key.get_secret_value() == "sk-from-file"


def test_a_missing_key_variable_stops_start_up_naming_it_and_the_line() -> None:
    with pytest.raises(ProvidersFileError) as caught:
        parse_providers(GOOD, path="p.toml", environ={})
    message = str(caught.value)
    assert "CLOUD_KEY" in message and "not set" in message
    assert "p.toml:5" in message  # the api_key_env line of the first table


@pytest.mark.parametrize("content", [None, "", "  \n", b"\xff\xfe"])
def test_a_key_file_that_is_missing_empty_or_unreadable_is_named_as_such(
    tmp_path: Path, content: str | bytes | None
) -> None:
    secret = tmp_path / "key"
    if isinstance(content, bytes):
        secret.write_bytes(content)
    elif content is not None:
        secret.write_text(content)
    with pytest.raises(ProvidersFileError) as caught:
        parse_providers(GOOD, path="p.toml", environ={"CLOUD_KEY_FILE": str(secret)})
    message = str(caught.value)
    assert message.startswith("invalid providers file p.toml:5 ([[provider]] #1, api_key_env): ")
    assert f"CLOUD_KEY_FILE names {secret}" in message and "not set" not in message
    expected = {None: "does not exist", "": "is empty", "  \n": "is empty"}
    assert expected.get(content, "cannot be read") in message  # type: ignore[call-overload]


def test_every_file_error_has_one_format_with_path_and_line() -> None:
    key = {"CLOUD_KEY": "k"}
    cases = {
        # the fallback line of the entry that names it
        GOOD.replace('["local"]', '["nope"]'): "p.toml:9 ([[provider]] #1, fallback): ",
        GOOD.replace("max_concurrency = 2", "max_concurrency = 0"): (
            "p.toml:7 ([[provider]] #1, max_concurrency): "
        ),
        GOOD.replace('"local"\ntype', '"cloud"\ntype'): "p.toml:13 ([[provider]] #2, name): ",
        GOOD.replace('text_model = "smollm2"', 'text_model = "smollm2'): "p.toml:16: ",
    }
    for text, where in cases.items():
        with pytest.raises(ProvidersFileError) as caught:
            parse_providers(text, path="p.toml", environ=key)
        assert str(caught.value).startswith("invalid providers file " + where), caught.value


def test_a_toml_syntax_error_names_the_line() -> None:
    broken = GOOD.replace('text_model = "smollm2"', 'text_model = "smollm2')
    with pytest.raises(ProvidersFileError, match=r"line 16"):
        parse_providers(broken, environ={"CLOUD_KEY": "k"})


def test_a_bad_field_names_the_line_of_its_table() -> None:
    bad = GOOD.replace("max_concurrency = 2", "max_concurrency = 0")
    with pytest.raises(ProvidersFileError) as caught:
        parse_providers(bad, path="p.toml", environ={"CLOUD_KEY": "k"})
    assert "p.toml:7" in str(caught.value) and "max_concurrency" in str(caught.value)
    wrong_type = GOOD.replace('name = "local"\ntype = "openai"', 'name = "local"\ntype = "gpt"')
    with pytest.raises(ProvidersFileError) as caught:
        parse_providers(wrong_type, path="p.toml", environ={"CLOUD_KEY": "k"})
    assert "p.toml:14" in str(caught.value) and "#2" in str(caught.value)


def test_inconsistent_files_are_refused() -> None:
    with pytest.raises(ProvidersFileError, match="fallback 'nowhere' is not configured"):
        parse_providers(GOOD.replace('["local"]', '["nowhere"]'), environ={"CLOUD_KEY": "k"})
    with pytest.raises(ProvidersFileError, match="used twice"):
        parse_providers(GOOD.replace('"local"\ntype', '"cloud"\ntype'), environ={"CLOUD_KEY": "k"})
    with pytest.raises(ProvidersFileError, match="serves no text"):
        parse_providers(
            '[[provider]]\nname = "el"\ntype = "elevenlabs"\napi_key_env = "K"\ntext_model = "x"\n',
            environ={"K": "k"},
        )
    with pytest.raises(ProvidersFileError, match=r"unknown_field|Extra inputs"):
        parse_providers(
            GOOD.replace("max_concurrency = 2", "unknown_field = 2"), environ={"CLOUD_KEY": "k"}
        )
    # A built-in name taken by another type would silently replace the offline default.
    for name in ("offline", "piper", "espeak"):
        entry = f'[[provider]]\nname = "{name}"\ntype = "openai"\nbase_url = "http://h/v1"\n'
        with pytest.raises(ProvidersFileError, match=f"name '{name}' is the built-in"):
            parse_providers(entry + 'text_model = "m"\n', environ={})
    with pytest.raises(ProvidersFileError, match="http:// or https://"):
        parse_providers(GOOD.replace("http://", "ftp://", 1), environ={"CLOUD_KEY": "k"})


def test_unknown_provider_or_model_is_a_400_naming_the_configured_ones() -> None:
    registry = ProviderRegistry(parse_providers(GOOD, environ={"CLOUD_KEY": "k"}))
    with pytest.raises(ValidationFailed) as caught:
        registry.resolve("text", "gpt-9", None)
    assert caught.value.http_status == 400 and caught.value.code == 1001
    assert "cloud, local, offline" in caught.value.message
    assert caught.value.field == "ai_provider"
    with pytest.raises(ValidationFailed) as caught:
        registry.resolve("text", "cloud", "huge")
    assert "small, large" in caught.value.message and caught.value.field == "model"


def test_describe_shows_models_and_never_keys_or_urls() -> None:
    registry = ProviderRegistry(parse_providers(GOOD, environ={"CLOUD_KEY": "sk-secret-value"}))
    described = registry.describe()
    text = repr(described)
    assert "sk-secret-value" not in text and "api.example.com" not in text
    cloud = next(d for d in described if d["name"] == "cloud")
    assert cloud["modalities"] == ["text"] and cloud["models"] == {"text": ["small", "large"]}
    offline = next(d for d in described if d["name"] == "offline")
    assert offline["modalities"] == ["text", "speech", "image", "video"]


def test_the_readme_example_is_a_valid_providers_file() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Providers", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    keys = {"DEEPSEEK_API_KEY": "a", "OPENAI_API_KEY": "b", "ELEVENLABS_API_KEY": "c"}
    keys["SEEDANCE_API_KEY"] = "d"
    registry = ProviderRegistry(parse_providers(example, environ=keys))
    assert registry.names("text") == ["deepseek", "local", "openai", "offline"]
    assert registry.names("speech") == ["openai", "elevenlabs", "piper", "offline"]
    assert registry.names("video") == ["studio-gpu", "seedance", "offline"]

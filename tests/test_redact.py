"""Secrets never reach the store: redaction by key name and by value shape."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.redact import REDACTED, redact, redact_text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuv1234 && python run.py",
            "sk-proj-abcdefghijklmnopqrstuv1234",
        ),
        (
            "ANTHROPIC_API_KEY=sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA python agent.py",
            "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        (
            "git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/org/repo",
            "ghp_abcdefghijklmnopqrstuvwxyz0123",
        ),
        (
            "huggingface-cli login --token hf_abcdefghijklmnopqrstuvwxyzABCD",
            "hf_abcdefghijklmnopqrstuvwxyzABCD",
        ),
        (
            'curl -H "Authorization: Bearer abc.def.ghijklmnopqrstu" https://api.example.com',
            "abc.def.ghijklmnopqrstu",
        ),
        ("psql postgresql://admin:hunter2hunter2@db.internal:5432/prod", "hunter2hunter2"),
        ("mysql --password=correct-horse-battery u", "correct-horse-battery"),
        ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        (
            "WANDB_API_KEY=0123456789abcdef0123456789abcdef wandb login",
            "0123456789abcdef0123456789abcdef",
        ),
        # passphrases: the bare form knew the word, but the pre-test that picks the forms to
        # try did not, so none of these was redacted
        ("export PASSPHRASE=correcthorse && ./sign.sh", "correcthorse"),
        ("passphrase: battery-staple-9", "battery-staple-9"),
        ("GPG_PASSPHRASE='hunter2hunter2' make release", "hunter2hunter2"),
        ("gpg --batch --passphrase tr0ub4dor3 -d secrets.gpg", "tr0ub4dor3"),
        (
            "key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'",
            "b3BlbnNzaC1rZXktdjEAAAAA",
        ),
    ],
)
def test_secret_values_are_redacted_in_free_text(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "torchrun --nproc_per_node 8 train.py --config configs/rlhf.yaml --lr 3e-4",
        "git push origin main",
        "python eval/evaluate.py --tokenizer gpt2 --max-tokens 512",
        "see https://docs.example.com/keys for the key rotation guide",
    ],
)
def test_ordinary_commands_are_left_intact(text: str) -> None:
    assert redact_text(text) == text


def test_secret_keys_are_redacted_whatever_their_value() -> None:
    out = redact(
        {
            "api_key": "abc",
            "nested": {"password": "pw", "OPENAI_API_KEY": "x", "gpus": 8},
            "headers": [{"Authorization": "Basic dXNlcjpwYXNz"}],
            "token_budget": 4096,
        }
    )
    assert out["api_key"] == REDACTED
    assert out["nested"]["password"] == REDACTED
    assert out["nested"]["OPENAI_API_KEY"] == REDACTED
    assert out["nested"]["gpus"] == 8
    assert out["headers"][0]["Authorization"] == REDACTED
    assert out["token_budget"] == 4096, "a key merely containing 'token' is not a secret"


SECRETS = [
    "export OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234 && python run.py",
    "curl -H 'Authorization: Bearer abcdefghijklmnop.qrs' https://x",
    "git clone https://user:hunter2secret@github.com/o/r.git",
    "token = ghp_abcdefghijklmnopqrstuvwxyz0123",
    "mysql --password=hunter22 -u root",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
    "AWS AKIAABCDEFGHIJKLMNOP and aiza AIzaSyA1234567890abcdefghijklmnopqrstu",
    "db_password: 'correcthorse' ; api_key=abcdef123",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    # one of each provider form the key pre-test groups by its `_`, `-` or `A`
    "npm npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "hf hf_abcdefghijklmnopqrstuvwxyz0123",
    "gitlab glpat-abcdefghijklmnopqrstu",
    "pypi pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MDEy",
    "slack xoxb-1234567890-abcdefghij",
    "gho gho_abcdefghijklmnopqrstuvwxyz0123",
    "pat github_pat_abcdefghijklmnopqrstuvwxyz0123",
    "sts ASIAABCDEFGHIJKLMNOP",
    "openai sk-abcdefghijklmnopqrstuvwx",
]


@pytest.mark.parametrize("text", SECRETS)
def test_scanning_with_only_the_hinted_alternatives_redacts_as_all_of_them(text: str) -> None:
    """redact_text tries only the alternatives whose hint the text holds: the result must be
    exactly what the whole expression gives (an alternative without its hint cannot match)."""
    from oversight.redact import _SECRET_VALUE, _replace

    for padded in (text, f"def f(key):\n    return {text!r}\n" * 3, text.upper(), text + " x"):
        assert redact_text(padded) == _SECRET_VALUE.sub(_replace, padded)
    assert redact_text(text) != text


def test_a_secret_word_spelled_with_a_long_s_is_still_found() -> None:
    """`(?i:secret)` matches `ſecret` (U+017F folds to `s`), which `lower()` leaves as it is: the
    cheap pre-test must fold the text the way the expression does, or it skips a real match."""
    out = redact_text("export pa\u017fsword=hunter22222; KEY_\u017fECRET=abcdefghijk")
    assert "hunter22222" not in out and "abcdefghijk" not in out


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["sk-", "ghp_", "bearer ", "://", "@", "key", "token=", "--password ", "-----BEGIN ",
             "PRIVATE KEY-----", "AKIA", "eyJ", "abcdefghijklmnopqrstuvwxyz0123456789", " ", "\n",
             "'", '"', "=", ":", "x", "K", "\u212a", "\u017f", "pa", "word", "ecret", "gh", "TOKEN",
             "_", "-", "gho_", "ghr_", "github_pat_", "hf_", "xoxb-", "glpat-", "npm_", "pypi-",
             "ASIA", "AIza", "akia", "A", "SK-", "Gh", "EYJ", "."]
        ),
        max_size=30,
    ).map("".join)
)  # fmt: skip
def test_hinted_scan_equals_the_whole_expression_on_any_text(text: str) -> None:
    from oversight.redact import _SECRET_VALUE, _replace

    expected = _SECRET_VALUE.sub(_replace, text) if len(text) >= 8 else text
    assert redact_text(text) == expected


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["key", "KEY", "Key", "token", "TOKEN", "secret", "Secret", "password", "PASSWD",
             "passphrase", "Passphrase", "pwd", "PWD", "pass", "api", "_", "-", "9", "x", "A",
             " ", "  ", "\t", "\n", "=", ":", " = ", "'", '"', "&", ";", "|", ".", "/", "$(",
             "abcdef", "hunter22", "0123456789", "s3cr3t!", "-----", "k\u212a", "\u017f"]
        ),
        max_size=40,
    ).map("".join)
)  # fmt: skip
def test_assignments_are_redacted_as_the_whole_expression_redacts_them(text: str) -> None:
    """Texts whose only hint is an assignment (`api_key = ...`, `TOKEN=...`, `password: ...`)
    take a faster path that tries the expression only where a secret word's run starts: its
    output must be exactly the whole expression's, runs and replacements next to each other
    included."""
    from oversight.redact import _SECRET_VALUE, _replace

    expected = _SECRET_VALUE.sub(_replace, text) if len(text) >= 8 else text
    assert redact_text(text) == expected

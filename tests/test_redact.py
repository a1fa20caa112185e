"""Secrets never reach the store: redaction by key name and by value shape."""

from __future__ import annotations

import pytest

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

"""Every OVERSIGHT_* environment variable, typed and documented in one place.

The watched agent can set environment variables too, which is why touching OVERSIGHT_* from a
step is classified as `oversight.tamper`; these settings are read once, when a Monitor starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from oversight._known_stores import state_folder
from oversight.errors import ConfigError
from oversight.normalise import UNKEYED

DEFAULT_DIR = ".oversight"
DEFAULT_DB_FILE = "oversight.db"
EVENTS_FILE = "events.jsonl"


class Settings(BaseModel):
    """Every setting of a monitor, from arguments or `OVERSIGHT_*` variables, in one place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    db: str | None = Field(
        None,
        description="Store URL or SQLite file path. Default: sqlite at .oversight/oversight.db "
        "under the working directory.",
    )
    policy: str = Field(
        "research-default",
        description="Policy pack name (research-default, strict, observe-only, lab-compute) or "
        "path to enforce. `record-only` enforces nothing and says so in every record (for "
        "measuring overhead and for tests, not for agents you do not trust).",
    )
    log: str | None = Field(
        None,
        description="Where structlog events go: a file path (appended, JSON lines), 'stderr', "
        "'stdout', 'structlog' (your own structlog configuration) or 'none'. Default: "
        f"{EVENTS_FILE} next to a SQLite store file ({DEFAULT_DIR}/{EVENTS_FILE} under the "
        "working directory for other stores), created at the first event.",
    )
    log_format: Literal["json", "console"] = Field("json", description="Event rendering.")
    flush_interval_ms: float = Field(
        50.0, gt=0, le=60_000, description="How long batched records may wait before a write."
    )
    batch_size: int = Field(2000, ge=1, le=1_000_000, description="Records per batched write.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite durability: FULL survives power loss, NORMAL only crashes."
    )
    busy_timeout_s: float = Field(
        30.0, gt=0, description="How long a writer waits for another process's write lock."
    )
    classify_config: str | None = Field(
        None, description="YAML file extending classification patterns."
    )
    max_arg_chars: int = Field(
        65_536, ge=64, description="Longest string argument stored in full; longer ones are cut."
    )
    max_classified_chars: int = Field(
        1_048_576,
        ge=65_536,
        description="Largest call (characters of its JSON) classified as a whole; a larger one "
        "needs a person's approval, never judged on a prefix.",
    )
    spill_dir: str | None = Field(
        None,
        description="Where records the store cannot take are saved (`unwritten-*.jsonl`, "
        "loaded with `oversight import`). Default: $XDG_STATE_HOME/agent-oversight/unwritten "
        "(~/.local/state/...), apart from the store, so deleting or filling the store's "
        "folder does not take the spill with it.",
    )
    digest_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="Key of the argument digests (HMAC-SHA256) approvals bind to. Set it (the "
        "same in every process on one store) so that readers of the store cannot test guesses "
        "of a redacted secret against a digest. Unset: digests still bind, unkeyed.",
    )
    result_summary_chars: int = Field(
        500, ge=16, le=100_000, description="Length of the stored summary of a step's result."
    )

    halt_poll_ms: float = Field(
        100.0,
        gt=0,
        le=60_000,
        description="How old the halt state a cheap step acts on may be: a cheap step reads "
        "the store itself when the last look is older. Consequential steps always read it "
        "before they run. Nothing polls in the background: an idle monitor costs nothing.",
    )
    approval_timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds a step waits for reviewers before it is denied as timed out; "
        "overrides the policy pack's deadline for this process.",
    )
    halt_after_denials: int = Field(
        3,
        ge=1,
        description="Proposing the same denied action this many times halts the session.",
    )
    notice: Literal["stderr", "none"] = Field(
        "stderr",
        description="Where a readable line goes when a step starts waiting for reviewers (what "
        "waits, why, until when, and the exact `oversight approve` command) or is refused "
        "because no reviewer is registered: 'stderr' or 'none'. Not printed while the terminal "
        "prompt (OVERSIGHT_PROMPT_REVIEWER) asks instead.",
    )
    prompt_reviewer: str | None = Field(
        None,
        description="NAME:KEYFILE. When the agent runs in a terminal, approvals are also asked "
        "there: the person at the keyboard answers as reviewer NAME, signing with KEYFILE, "
        "which must be passphrase-protected (the passphrase is typed at the prompt).",
    )
    root_key: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="The root admin's public key (hex, printed by `oversight reviewer add`). "
        "Set it where the agent cannot change it: only that key can be the root of trust. "
        "Unset: the first registered admin is the root (trust on first use).",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read OVERSIGHT_<FIELD> variables; explicit overrides win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = env.get(f"OVERSIGHT_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"OVERSIGHT_{str(e['loc'][0]).upper()}="
                f"{'***' if e['loc'][0] in SECRET_FIELDS else repr(e.get('input'))}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"invalid oversight settings: {problems}") from None

    def digest_key_bytes(self) -> bytes:
        """The key argument digests are made with (see `normalise_call`)."""
        if self.digest_key is None:
            return UNKEYED
        return self.digest_key.get_secret_value().encode("utf-8")

    def spill_path(self) -> Path:
        """The spill folder (see `spill_dir`)."""
        if self.spill_dir:
            return Path(self.spill_dir)
        return state_folder() / "unwritten"

    def store_url(self) -> str:
        """The SQLAlchemy URL of the store; a bare path means a SQLite file."""
        return resolve_db_url(self.db)

    def event_log(self) -> str:
        """Where events go: `log`, else the events file beside the store."""
        return self.log or str(store_dir(self.store_url()) / EVENTS_FILE)


SECRET_FIELDS = frozenset({"digest_key"})
"""Settings whose values an error message must not repeat."""


def resolve_db_url(db: str | None) -> str:
    if db is None or db == "":
        return f"sqlite:///{Path(DEFAULT_DIR) / DEFAULT_DB_FILE}"
    if "://" in db:
        return db
    return f"sqlite:///{db}"


def store_dir(url: str) -> Path:
    """The folder for a store's side files (records it could not write, the event log): a
    SQLite file's own folder, else `.oversight/` under the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url not in (prefix, f"{prefix}:memory:"):
        return Path(url[len(prefix) :].partition("?")[0]).parent
    return Path(DEFAULT_DIR)

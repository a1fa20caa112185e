"""What the web app is started with, in one place (`oversight serve` builds it from its options).

Later parts (sign-in with passkeys, webhooks) add their settings here, so `create_app` keeps one
signature however much the app grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oversight.web.webhooks import WebhookTarget


@dataclass(frozen=True)
class WebConfig:
    """Settings of one running web app; every field has a default fit for a reviewer's laptop."""

    sessions_per_page: int = 50
    steps_per_page: int = 100
    approvals_per_page: int = 50
    anchors_file: Path | None = None
    """Signed chain heads (`oversight anchor --to FILE`) the integrity page checks the store
    against; None: the page verifies the chain alone."""
    root_key: str | None = None
    """The pinned root admin key (as OVERSIGHT_ROOT_KEY): which admins' anchors and resumes to
    trust. None: the first registered admin, as the CLI does."""
    filter_budget_s: float = 1.0
    """How long one sessions page may scan for sessions matching filters the index cannot
    answer (status, scenario) before it shows what it found and offers to search further."""
    chart_max_steps: int = 20_000
    """Sessions up to this many steps get their autonomy chart with the timeline; longer ones
    compute it when asked (it reads the whole session)."""
    list_score_max_steps: int = 300
    """A session with no score recorded live (an imported one) is scored for the sessions list
    when it has at most this many steps; larger ones are scored when opened."""
    search_index: Path | None = None
    """The full-text search index file; None: one per store in the state folder
    (`search.default_index_path`)."""
    webhooks: tuple[WebhookTarget, ...] = ()
    """Where each approval request is announced (`--webhook`), by the server's notifier."""
    public_url: str | None = None
    """The app's address as reviewers reach it (`--public-url`), for the links in webhooks."""
    webhook_state: Path | None = None
    """Where the notifier notes what it delivered; None: one file per store in the state folder
    (`notifier.default_sent_path`)."""

    def __post_init__(self) -> None:
        for name in ("sessions_per_page", "steps_per_page", "approvals_per_page"):
            value = getattr(self, name)
            if not 1 <= value <= 1000:
                raise ValueError(f"{name} must be between 1 and 1000, got {value!r}")
        if not self.filter_budget_s > 0:
            raise ValueError(f"filter_budget_s must be positive, got {self.filter_budget_s!r}")
        if self.webhooks and not self.public_url:
            raise ValueError("webhooks need public_url: the address their links point to")

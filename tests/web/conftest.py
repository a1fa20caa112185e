"""Fixtures for the review web app's tests: a real Chromium (Debian's, driven by Playwright), the
app served by uvicorn on a free local port, and stores holding real sessions.

The browser is shared by the whole run; each test gets a fresh page. Screenshots go to
$OVERSIGHT_TEST_ARTIFACTS (else a temporary folder); the run's summary prints where.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="needs the web extra")
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright")

import uvicorn
from browser_reviewers import BrowserReviewer, Desk, new_reviewer, register_root
from reviewing import cli, write_gate_pack

from oversight import Monitor
from oversight.errors import ApprovalPending
from oversight.store import open_store
from oversight.web.access import AccessConfig
from oversight.web.config import WebConfig
from oversight.web.review_app import create_review_app

CHROMIUM = os.environ.get("OVERSIGHT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 1024, "height": 800}
_ARTIFACTS = pytest.StashKey[Path]()


@dataclass
class Served:
    """The app running on a store: its base URL and the store it reads."""

    base: str
    store_url: str
    app: Any = None
    """The app object serving (the tests look inside it: what the server holds)."""

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serving(
    store_url: str,
    config: WebConfig | None = None,
    *,
    state_dir: Path | None = None,
    **access: Any,
) -> Iterator[Served]:
    """The app for `store_url`, served by uvicorn in a thread on a free 127.0.0.1 port.

    Without `state_dir` it runs as `oversight serve --no-auth` (read-only, no sign-in: the
    pages' own tests); with one it asks for sign-in with passkeys at http://localhost:PORT,
    keeping pending registrations in `state_dir` (`access`: more `AccessConfig` fields)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    if state_dir is None:
        settings = AccessConfig.no_auth()
        base = f"http://127.0.0.1:{port}"
    else:
        base = f"http://localhost:{port}"
        settings = AccessConfig(origin=base, state_dir=state_dir, **access)
    app = create_review_app(store_url, config=config, access=settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.01)
    try:
        yield Served(base, store_url, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/system-deps.sh)")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh page (its own context: no cookies or cache shared between tests), 1440x900."""
    context = browser.new_context(viewport=WIDE)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("OVERSIGHT_TEST_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("web-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[_ARTIFACTS] = folder
    return folder


@pytest.fixture
def shoot(artifacts: Path) -> Callable[[object, str], Path]:
    """`shoot(page, name)`: a full-page screenshot saved as artifacts/NAME.png."""

    def save(tab: object, name: str) -> Path:
        path = artifacts / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path

    return save


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    folder = terminalreporter.config.stash.get(_ARTIFACTS, None)
    if folder is not None:
        terminalreporter.write_line(f"web app screenshots: {folder}")


@dataclass
class ReviewStore:
    """A store with real sessions of every kind a reviewer meets, and what the tests look for."""

    url: str
    demo: str
    """The demo's session: gated steps a person approved and denied, edits, a training launch."""
    imported: list[str]
    """The sessions `oversight import` read from a real Inspect log."""
    nested: str
    """A live session whose steps call steps (parent and children)."""
    training: str
    """A live session that ran a script which trains a model."""
    waiting: str
    """A live session, still running, with a training launch waiting for approval."""
    approval_id: str
    interrupted: str
    """A session whose process died in the middle of a step."""


@pytest.fixture(scope="session")
def review_store(
    tmp_path_factory: pytest.TempPathFactory, realdata: Callable[[str, str], Path]
) -> Iterator[ReviewStore]:
    root = tmp_path_factory.mktemp("review-store")
    db = root / "oversight.db"
    url = f"sqlite:///{db}"
    demo = cli("demo", "--db", str(db), cwd=root, timeout=180)
    assert demo.returncode == 0, demo.stderr
    log = root / "logs" / "ctf.eval"
    log.parent.mkdir()
    shutil.copy(realdata("docent", "docent/samples/log.eval"), log)
    imported = cli("import", str(log), "--db", str(db), cwd=root)
    assert imported.returncode == 0, imported.stderr
    with open_store(url) as store:
        demo_id = next(s.session_id for s in store.sessions() if s.agent == "research-bot")
        imported_ids = [s.session_id for s in store.sessions() if s.agent == "inspect"]
    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "baseline.py").write_text(TRAINING_SCRIPT, encoding="utf-8")
    # Steps that run unasked (record-only), and a gate on training that the demo's reviewer
    # could answer (nobody does here: it stays pending).
    free = Monitor(db=str(db), policy="record-only", log="none", workspace=str(workspace))
    gated = Monitor(
        db=str(db), policy=str(write_gate_pack(root, 3600)), log="none", workspace=str(workspace)
    )

    @free.step(name="Read")
    def read(file_path: str) -> str:
        return f"contents of {file_path}"

    @free.step(name="plan_experiment", kind="tool.call")
    def plan(goal: str) -> str:
        read("configs/base.yaml")
        read("notes/results.md")
        return f"plan for {goal}"

    with free.session(agent="planner-agent") as nested:
        plan("tune the learning rate")
    with free.session(agent="trainer-agent") as training:
        free.check("Bash", {"command": "python baseline.py --epochs 3"}).succeed(
            {"exit_code": 0, "stdout": "epoch 3 loss 0.12", "stderr": ""}
        )
    free.close()
    waiting = gated.session(agent="waiting-agent")
    waiting.__enter__()
    try:
        gated.check(
            "launch_training", {"config": "configs/base.yaml", "gpus": 8}, kind="train.launch",
            wait=False,
        )  # fmt: skip
        raise AssertionError("the training launch was not sent for approval")
    except ApprovalPending as pending:
        approval_id = pending.approval_id
    gated.flush()
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_AGENT.format(db=str(db))],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert crashed.returncode == 3, crashed.stderr
    interrupted = crashed.stdout.strip()
    yield ReviewStore(
        url=url,
        demo=demo_id,
        imported=imported_ids,
        nested=nested.id,
        training=training.id,
        waiting=waiting.id,
        approval_id=approval_id,
        interrupted=interrupted,
    )
    waiting.__exit__(None, None, None)
    gated.close()


TRAINING_SCRIPT = """\
import torch

model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(100):
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    optimizer.step()
"""

CRASHING_AGENT = """\
import os
from oversight import Monitor

monitor = Monitor(db={db!r}, policy="record-only", log="none", workspace=False)
with monitor.session(agent="crashed-agent") as session:
    monitor.check("Bash", {{"command": "python train_loop.py --resume"}})
    print(session.id, flush=True)
    os._exit(3)
"""


@pytest.fixture(scope="session")
def review_app(review_store: ReviewStore) -> Iterator[Served]:
    with serving(review_store.url) as served:
        yield served


@dataclass
class ManyStore:
    url: str
    bulk: list[str]
    """120 one-step sessions, oldest first."""
    long: str
    """A session of 250 steps."""


@pytest.fixture(scope="session")
def many_store(tmp_path_factory: pytest.TempPathFactory) -> ManyStore:
    db = tmp_path_factory.mktemp("many-store") / "oversight.db"
    with Monitor(db=str(db), policy="record-only", log="none", workspace=False) as monitor:
        bulk = []
        for i in range(120):
            with monitor.session(f"bulk-{i:03d}", agent=f"bulk-agent-{i % 3}") as session:
                monitor.check("Read", {"file_path": f"notes/{i}.md"}).succeed("notes")
            bulk.append(session.id)
        with monitor.session("long-session", agent="long-runner") as long:
            for i in range(250):
                monitor.check("Read", {"file_path": f"data/{i}.csv"}).succeed("rows")
    return ManyStore(f"sqlite:///{db}", bulk, long.id)


@pytest.fixture(scope="session")
def many_app(many_store: ManyStore) -> Iterator[Served]:
    with serving(many_store.url) as served:
        yield served


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A store whose root admin registered from the CLI, served with passkey sign-in (one per
    test module)."""
    root = tmp_path_factory.mktemp("desk")
    db = register_root(root)
    state_dir = root / "web-state"
    with serving(Desk(root, db, "", state_dir).store_url, state_dir=state_dir) as served:
        yield Desk(root=root, db=db, base=served.base, state_dir=state_dir, app=served.app)


@pytest.fixture(scope="module")
def carol(browser: Any, desk: Desk) -> Iterator[BrowserReviewer]:
    """An approver who registered her passkey in the browser, endorsed by the root admin."""
    reviewer = new_reviewer(browser, desk, "carol", "approver")
    yield reviewer
    reviewer.context.close()


@pytest.fixture(scope="module")
def vic(browser: Any, desk: Desk) -> Iterator[BrowserReviewer]:
    """A viewer: signed in, endorsed, and never counted."""
    reviewer = new_reviewer(browser, desk, "vic", "viewer")
    yield reviewer
    reviewer.context.close()

"""`Monitor`: the object a team creates once; it owns the store, recorder and pipeline."""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self, TypeVar, overload

from opentelemetry.trace import TracerProvider

from oversight._context import current_session
from oversight._decorator import wrap_step
from oversight._edits import ArgsSchema, edit_check_for
from oversight._halt_switch import ALL_SESSIONS, HaltSwitch
from oversight._known_stores import KnownStores
from oversight._pipeline import Pipeline
from oversight._recorder import Recorder
from oversight._session import OpenSessions, Session, SessionServices
from oversight._stderr import warn
from oversight._step import StepHandle
from oversight._store_guard import StoreGuard, StoreVanishedError
from oversight.approvals.broker import ApprovalDesk, ApprovalRequest, Notify
from oversight.approvals.notice import TerminalNotice
from oversight.approvals.terminal import TerminalReviewer, parse_prompt_reviewer, terminal_available
from oversight.canonical import new_id
from oversight.classify import Classifier, load_classifier_config
from oversight.classify.config import with_protected_paths
from oversight.decide import RECORD_ONLY, Decider, RecordOnly, wants_history
from oversight.errors import ConfigError, StoreError
from oversight.kinds import Kind, parse_kind
from oversight.policy import load_policy
from oversight.records import Actor, Alert
from oversight.settings import Settings
from oversight.store import AuditStore, RecordLog, ReviewState, open_store
from oversight.telemetry import Telemetry

F = TypeVar("F", bound=Callable[..., Any])


class Monitor:
    """Intercepts, classifies and durably records every step of an agent.

    `Monitor()` uses `.oversight/oversight.db` (or `OVERSIGHT_DB`); `db=` takes a SQLAlchemy URL
    or a SQLite path. Close it (or use it as a context manager) to flush; it also flushes at
    interpreter exit.
    """

    def __init__(
        self,
        db: str | None = None,
        policy: str | Decider | None = None,
        *,
        settings: Settings | None = None,
        tracer_provider: TracerProvider | None = None,
        log: str | None = None,
        classify_config: str | os.PathLike[str] | None = None,
        store: AuditStore | None = None,
        on_approval_request: Notify | None = None,
        workspace: str | os.PathLike[str] | bool = True,
    ) -> None:
        base = settings or Settings.from_env()
        self.workspace_root = _workspace_root(workspace)
        """Where scripts a step runs are read from when the session did not write them: the
        process's working directory by default (the monitor runs beside the agent), a given
        directory, or None (`workspace=False`) to read only what the session wrote."""
        overrides: dict[str, Any] = {}
        if db is not None:
            overrides["db"] = str(db)
        if isinstance(policy, str):
            overrides["policy"] = policy
        if log is not None:
            overrides["log"] = log
        if classify_config is not None:
            overrides["classify_config"] = os.fspath(classify_config)
        self.settings = base.model_copy(update=overrides) if overrides else base
        self._validate_settings()

        self.policy_name: str | None = None
        self.policy_hash: str | None = None
        self.decider: Decider
        if policy is not None and not isinstance(policy, str):
            self.decider = policy
            self.policy_name = str(getattr(policy, "name", type(policy).__name__))
            self.policy_hash = getattr(policy, "hash", None)
        elif self.settings.policy and self.settings.policy != RECORD_ONLY:
            loaded = load_policy(self.settings.policy)
            self.decider = loaded
            self.policy_name, self.policy_hash = loaded.name, loaded.hash
        else:
            self.decider = RecordOnly()
            self.policy_name = RECORD_ONLY

        config = (
            load_classifier_config(self.settings.classify_config)
            if self.settings.classify_config
            else None
        )
        self.classifier = Classifier(
            with_protected_paths(config, getattr(self.decider, "protected_paths", ()))
        )
        if store is not None:
            _check_store_protocol(store)
        self.store: AuditStore = store or open_store(
            self.settings.store_url(),
            sqlite_synchronous=self.settings.sqlite_synchronous,
            busy_timeout_s=self.settings.busy_timeout_s,
        )
        self.telemetry = Telemetry(
            log=self.settings.event_log(),
            log_format=self.settings.log_format,
            tracer_provider=tracer_provider,
            lazy_file=self.settings.log is None,
            store=self.store,
        )
        # A session an agent killed before us left open shows in the backend, under its spans.
        self.telemetry.recover_abandoned()
        self.halt_switch = HaltSwitch(
            self.store,
            poll_interval_s=self.settings.halt_poll_ms / 1000.0,
            root_key=self.settings.root_key,
        )
        self._recorder = Recorder(
            self.store,
            consumers=[self.telemetry],
            flush_interval_s=self.settings.flush_interval_ms / 1000.0,
            batch_size=self.settings.batch_size,
            spill_dir=self.settings.spill_path(),
        )
        # Notes across processes only for a store this monitor opened from its settings.
        known = KnownStores() if store is None else None
        self._store_guard = StoreGuard(self.store, self.settings.store_url(), known)
        self._implicit: Session | None = None
        notify, prompting = self._approval_channels(on_approval_request)
        # The terminal prompt already tells the person at the keyboard, and asks them.
        show_notice = self.settings.notice == "stderr" and not prompting
        self._pipeline = Pipeline(
            classifier=self.classifier,
            decider=self.decider,
            recorder=self._recorder,
            max_arg_chars=self.settings.max_arg_chars,
            result_summary_chars=self.settings.result_summary_chars,
            max_classified_chars=self.settings.max_classified_chars,
            digest_key=self.settings.digest_key_bytes(),
            halts=self.halt_switch,
            store_check=self._check_store,
            approvals=ApprovalDesk(
                self.store,
                timeout_override_s=self.settings.approval_timeout,
                notify=notify,
                on_error=warn,
                root_key=self.settings.root_key,
                notice=TerminalNotice(self.settings.store_url()) if show_notice else None,
            ),
            halt_after_denials=self.settings.halt_after_denials,
        )

        self._sessions = SessionServices(
            recorder=self._recorder,
            halts=self.halt_switch,
            policy_name=self.policy_name,
            policy_hash=self.policy_hash,
            keep_history=wants_history(self.decider),
            workspace_root=self.workspace_root,
            open_sessions=OpenSessions(),
        )
        self._closed = False
        self.halt_switch.refresh()  # a halt issued before we started applies to step one
        _close_at_exit(self)

    def _validate_settings(self) -> None:
        if self.settings.classify_config and not Path(self.settings.classify_config).is_file():
            raise ConfigError(
                f"classification config {self.settings.classify_config!r} is not a file"
            )

    def _approval_channels(self, callback: Notify | None) -> tuple[Notify | None, bool]:
        """The integration's callback, plus the terminal prompt when one is configured and the
        agent runs in a terminal; and whether that prompt is on."""
        if not self.settings.prompt_reviewer:
            return callback, False
        name, key = parse_prompt_reviewer(self.settings.prompt_reviewer)
        if not terminal_available():
            warn(
                "OVERSIGHT_PROMPT_REVIEWER is set but there is no terminal; approvals wait for "
                "`oversight approve`"
            )
            return callback, False
        prompt = TerminalReviewer(self.settings.store_url(), name, key)
        if callback is None:
            return prompt, True

        def both(request: ApprovalRequest) -> None:
            callback(request)
            prompt(request)

        return both, True

    # -- public API ---------------------------------------------------------------------------
    def session(
        self,
        session_id: str | None = None,
        *,
        agent: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Session:
        """A session context manager (sync or async) that brackets one run of an agent."""
        if session_id is not None and (not isinstance(session_id, str) or not session_id.strip()):
            raise ConfigError(f"session id must be a non-empty string, got {session_id!r}")
        sid = session_id or f"session-{new_id()}"
        first_seq = self.store.next_step_seq(sid) if session_id is not None else 1
        return Session(
            self._sessions, sid, agent=agent, metadata=dict(metadata or {}), first_seq=first_seq
        )

    @overload
    def step(self, func: F, /) -> F: ...

    @overload
    def step(
        self, func: None = None, /, *, kind: str | Kind | None = None, name: str | None = None
    ) -> Callable[[F], F]: ...

    def step(
        self,
        func: F | None = None,
        /,
        *,
        kind: str | Kind | None = None,
        name: str | None = None,
    ) -> F | Callable[[F], F]:
        """Decorate a sync or async agent function; `kind` is inferred when omitted."""
        declared = parse_kind(kind) if kind is not None else None
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigError(f"step name must be a non-empty string, got {name!r}")

        def decorate(f: F) -> F:
            if not callable(f):
                raise TypeError(f"@monitor.step needs a function, got {type(f).__name__}")
            return wrap_step(self._pipeline, self._active_session, f, kind=declared, name=name)

        return decorate(func) if func is not None else decorate

    def check(
        self,
        name: str,
        args: Mapping[str, Any],
        *,
        kind: str | Kind | None = None,
        actor: Actor = "agent",
        session: Session | None = None,
        wait: bool = True,
        approval_id: str | None = None,
        enforce: bool = True,
        args_schema: ArgsSchema | None = None,
    ) -> StepHandle:
        """Low-level API for adapters: propose a call; run it only if this returns.

        Run it with `handle.call_args` (a reviewer may have edited the call), then report the
        outcome with `handle.succeed(result)` or `handle.fail(exc)`. Raises CheckpointDenied
        (CheckpointTimeout), SessionHalted or StoreUnavailableError when the call must not run.

        `wait=False`: a step that needs a person raises ApprovalPending instead of blocking.
        `approval_id`: name the approval; an existing one is claimed (it must be for exactly this
        call, decided, and unused: it runs one step), a new one is created with that id.
        `enforce=False`: for observers that cannot stop the call (callbacks): the policy's
        decision is recorded with `enforced: false` and nothing is raised or awaited.
        `args_schema`: what the call accepts (the function it runs, a pydantic model of its
        arguments, or a JSON schema): a reviewer's edit whose values do not fit is refused, and
        the call does not run. Without it an edit is checked only for unknown argument names.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(f"step name must be a non-empty string, got {name!r}")
        if not isinstance(args, Mapping):
            raise ConfigError(f"step args must be a mapping of names to values, got {args!r}")
        if actor not in ("agent", "human"):
            raise ConfigError(f"actor must be 'agent' or 'human', got {actor!r}")
        declared = parse_kind(kind) if kind is not None else None
        if approval_id is not None and (not isinstance(approval_id, str) or not approval_id):
            raise ConfigError(f"approval_id must be a non-empty string, got {approval_id!r}")
        return self._pipeline.propose(
            session or self._active_session(),
            name,
            args,
            declared=declared,
            actor=actor,
            wait=wait,
            approval_id=approval_id,
            enforce=enforce,
            edit_check=edit_check_for(args_schema) if args_schema is not None else None,
        )

    def halt(self, reason: str, *, session_id: str | None = None, by: str = "monitor") -> None:
        """Halt one session (or every session) in the store, for every process using it."""
        self.halt_switch.halt(session_id or ALL_SESSIONS, reason, by)

    @property
    def halts(self) -> dict[str, str]:
        """Halts in force (scope → reason) as of the last look; "*" halts every session."""
        return self.halt_switch.in_force

    def halt_reason(self, session_id: str) -> str | None:
        """Why `session_id` is halted, as of the last look at the store (no I/O)."""
        return self.halt_switch.reason(session_id)

    def halt_reason_now(self, session_id: str) -> str | None:
        """Why `session_id` is halted, asking the store first (as a consequential step does)."""
        return self.halt_switch.reason_now(session_id)

    def _check_store(self, session_id: str) -> None:
        """Before a consequential step: the store must be the one this monitor opened. The
        first time it is not, say so wherever it can still be said (stderr, the event log,
        and the store now at that path, if any); every step that acts is refused from then."""
        try:
            self._store_guard.check()
        except StoreVanishedError as exc:
            if not self._store_guard.announced:
                self._store_guard.announced = True
                warn(f"{exc}; every step that acts is refused from now on")
                alert = Alert(session_id=session_id, reason=f"store lost: {exc}")
                self.telemetry.emit([alert])
                with contextlib.suppress(StoreError):
                    self.store.append([alert])
            raise

    def flush(self) -> None:
        """Make every record so far durable now."""
        self._recorder.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _forget(self)
        if self._implicit is not None and not self._implicit.ended:
            self._implicit.end("completed")
        self._recorder.close()
        self._store_guard.close()
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------
    def _active_session(self) -> Session:
        """The session a step belongs to.

        The context's session when there is one. Threads the agent starts itself do not inherit
        context variables, so a step there joins the monitor's one open session; with several
        open, it cannot know which, and records the step in an implicit session instead.
        """
        session = current_session.get()
        if session is not None and session.services is self._sessions:
            return session
        explicit = [s for s in self._sessions.open_sessions.all() if s is not self._implicit]
        if len(explicit) == 1:
            return explicit[0]
        if self._implicit is None or self._implicit.ended:
            self._implicit = Session(
                self._sessions, f"implicit-{new_id()}", agent=None, metadata={"implicit": True}
            )
            self._implicit.start()
        return self._implicit


def _check_store_protocol(store: object) -> None:
    """A store given to a monitor holds both the log and the review state: approvals and halts
    live there, and a store without them would leave every gated step without reviewers."""
    missing = [
        name
        for protocol in (RecordLog, ReviewState)
        if not isinstance(store, protocol)
        for name in _protocol_methods(protocol)
        if not callable(getattr(store, name, None))
    ]
    if missing:
        raise ConfigError(
            f"store {type(store).__name__} is not an AuditStore: it lacks {', '.join(missing)} "
            "(the append-only log and the review state where approvals and halts live)"
        )


def _protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name for name in vars(protocol) if not name.startswith("_") and name != "url_for_display"
    )


# Open monitors are held here until closed, so queued records are flushed at interpreter exit
# even when the user never closes the monitor they created.
_OPEN: set[Monitor] = set()
_OPEN_LOCK = threading.Lock()


def _close_at_exit(monitor: Monitor) -> None:
    with _OPEN_LOCK:
        _OPEN.add(monitor)


def _forget(monitor: Monitor) -> None:
    with _OPEN_LOCK:
        _OPEN.discard(monitor)


@atexit.register
def _close_all() -> None:
    for monitor in list(_OPEN):
        monitor.close()


def _workspace_root(workspace: str | os.PathLike[str] | bool) -> Path | None:
    if workspace is False:
        return None
    if workspace is True:
        return Path.cwd()
    root = Path(workspace)
    if not root.is_dir():
        raise ConfigError(f"workspace={os.fspath(workspace)!r} is not a directory")
    return root.resolve()

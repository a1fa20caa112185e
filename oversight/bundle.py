"""Audit bundles: a session (or the whole store) as one file an auditor checks without the store.

The chain hashes every row's full body (`store.chain.record_hash`), not a digest of it, so a
record's hash recomputes only from its whole body. A session's records are not contiguous in the
chain (other sessions interleave), so a bundle ships the whole contiguous segment from the
session's first record to the chain head at export time, every row in full (bodies are redacted
when they are stored). Shipping other sessions' rows as bare (seq, prev_hash, hash) would prove
nothing: anyone can write a triple that links. With every row, an auditor recomputes each hash
from its body and predecessor, sees every seq from the first to the head, and knows which of them
belong to the session (its id is hashed): none was left out, edited, inserted or reordered.

A chain that verifies on its own can still have been rewritten whole by whoever wrote the store,
so a bundle also carries the admins' signed heads (`anchors.py`) that fall in or after it and the
reviewer registrations that endorse their keys. An anchor inside the segment must match the
recomputed hash at its seq. Those keys are only as trusted as the root admin: pinned by the
auditor (`--root-key`, `OVERSIGHT_ROOT_KEY`), or else the bundle's own first registration, trust
on first use, which whoever wrote the bundle could have chosen. Anchors the auditor keeps apart
from the bundle (`verify --bundle FILE --anchors FILE`) are the strongest check.

The file is JSON lines: a header, then reviewer, anchor and record lines, then an end line with
the number of lines before it and their SHA-256. That seal catches truncation and damage; it is
not a signature (anyone who edits the file can reseal it): the chain and the anchors are.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any, Literal

from oversight.anchors import Anchor, read_anchors
from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import verify as verify_signature
from oversight.errors import OversightError, StoreCorruptError
from oversight.records import REVIEW_SESSION
from oversight.store.chain import GENESIS_HASH, record_hash
from oversight.store.columns import body_disagreement

FORMAT = "oversight.bundle/v1"
PARTS = ("header", "reviewer", "anchor", "record", "end")
MAX_PROBLEMS = 100
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REVIEWER_FIELDS = ("name", "role", "public_key", "endorsed_by", "endorsement")
Verdict = Literal["holds", "fails", "unchecked"]


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One stored row exactly as the chain hashes it."""

    seq: int
    record_id: str
    type: str
    session_id: str
    step_id: str | None
    kind: str | None
    decision: str | None
    ts: str
    body: str
    prev_hash: str
    hash: str

    def recomputed(self) -> str:
        return record_hash(
            self.prev_hash,
            self.seq,
            self.record_id,
            self.type,
            self.session_id,
            self.step_id,
            self.kind,
            self.decision,
            self.ts,
            self.body,
        )


@dataclass(frozen=True)
class Segment:
    """What a bundle holds: rows `first`..`head_seq`, read in one snapshot with the head."""

    store: str
    exported_at: str
    """Taken before the snapshot: a head signed before this time is at most the snapshot's."""
    session_id: str | None
    first: int
    head_seq: int
    head_hash: str
    reviewers: list[dict[str, Any]]
    rows: Iterable[ChainRow]


# -- writing --------------------------------------------------------------------------------


@contextlib.contextmanager
def read_segment(url: str, session_id: str | None) -> Iterator[Segment]:
    """The segment of the store at `url` a bundle of `session_id` (None: every record) holds.

    One read-only snapshot (REPEATABLE READ on PostgreSQL) for the head, the reviewers and the
    rows, streamed, so a store written meanwhile still yields a segment that ends at its head.
    """
    from sqlalchemy import func, select

    from oversight.store.engine import READ_ONLY, create_store_engine, store_failure
    from oversight.store.schema import chain_head, records, reviewers

    exported_at = _now()
    store = create_store_engine(url, create=False)
    engine = store.engine.execution_options(**READ_ONLY)
    if store.dialect == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    t = records.c
    try:
        with engine.connect() as conn, conn.begin():
            head = conn.execute(select(chain_head.c.seq, chain_head.c.hash)).first()
            if head is None:
                raise StoreCorruptError(
                    f"the store at {store.where} has no chain head row: run `oversight verify`"
                )
            head_seq, head_hash = int(head[0]), str(head[1])
            first = 1
            if session_id is not None:
                found = conn.execute(
                    select(func.min(t.seq)).where(t.session_id == session_id)
                ).scalar()
                if found is None:
                    raise OversightError(f"no session {session_id!r} in the store")
                first = int(found)
                if first > head_seq:
                    raise StoreCorruptError(
                        f"session {session_id!r} starts at seq {first}, beyond the chain head "
                        f"(seq {head_seq}): run `oversight verify`"
                    )
            rows = [
                {k: None if v is None else str(v) for k, v in r._mapping.items()}
                for r in conn.execute(select(reviewers).order_by(reviewers.c.created_at))
            ]
            columns = (t.seq, t.record_id, t.type, t.session_id, t.step_id, t.kind, t.decision)
            stream = conn.execute(
                select(*columns, t.ts, t.body, t.prev_hash, t.hash)
                .where(t.seq >= first, t.seq <= head_seq)
                .order_by(t.seq)
                .execution_options(yield_per=2000)
            )
            yield Segment(
                store=store.url_for_display,
                exported_at=exported_at,
                session_id=session_id,
                first=first,
                head_seq=head_seq,
                head_hash=head_hash,
                reviewers=rows,
                rows=(ChainRow(int(r[0]), *r[1:]) for r in stream),
            )
    except store.db_errors as exc:
        raise store_failure(exc, store, "export a bundle from") from exc
    finally:
        store.engine.dispose()


def bundle_lines(segment: Segment, anchors: Sequence[Anchor]) -> Iterator[bytes]:
    """The bundle's lines, each ending in a newline, the end line last (streamed: constant
    memory). Anchors before the segment are left out: it holds nothing they could be checked
    against."""
    digest = sha256()
    count = 0

    def line(obj: dict[str, Any]) -> bytes:
        nonlocal count
        raw = (json.dumps(obj, separators=(",", ":")) + "\n").encode("ascii")
        digest.update(raw)
        count += 1
        return raw

    yield line(
        {
            "part": "header",
            "bundle": FORMAT,
            "store": segment.store,
            "exported_at": segment.exported_at,
            "scope": "store" if segment.session_id is None else "session",
            "session_id": segment.session_id,
            "first_seq": segment.first,
            "last_seq": segment.head_seq,
            "head": {"seq": segment.head_seq, "hash": segment.head_hash},
        }
    )
    for row in segment.reviewers:
        yield line({"part": "reviewer", **row})
    for anchor in anchors:
        if anchor.seq >= segment.first - 1:
            yield line({"part": "anchor", **json.loads(anchor.line())})
    for r in segment.rows:
        yield line(
            {
                "part": "record",
                "seq": r.seq,
                "record_id": r.record_id,
                "type": r.type,
                "session_id": r.session_id,
                "step_id": r.step_id,
                "kind": r.kind,
                "decision": r.decision,
                "ts": r.ts,
                "prev_hash": r.prev_hash,
                "hash": r.hash,
                "body": r.body,
            }
        )
    end = {"part": "end", "lines": count, "sha256": digest.hexdigest()}
    yield (json.dumps(end, separators=(",", ":")) + "\n").encode("ascii")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# -- verifying ------------------------------------------------------------------------------


@dataclass
class BundleReport:
    """What `verify_bundle` checked (`checked`), what it could not vouch for (`warnings`) and
    what is wrong (`problems`: any one fails the bundle)."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    records: int = 0
    session_records: int = 0
    anchors_held: int = 0
    anchored_through: int | None = None
    root_pinned: bool = False
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "bundle": self.header.get("bundle"),
            "scope": self.header.get("scope"),
            "session_id": self.header.get("session_id"),
            "store": self.header.get("store"),
            "exported_at": self.header.get("exported_at"),
            "first_seq": self.header.get("first_seq"),
            "last_seq": self.header.get("last_seq"),
            "records": self.records,
            "session_records": self.session_records,
            "anchors_held": self.anchors_held,
            "anchored_through": self.anchored_through,
            "root_pinned": self.root_pinned,
            "checked": self.checked,
            "warnings": self.warnings,
            "problems": self.problems,
            "more_problems": self.more_problems,
        }


class _Bad(Exception):
    """A line that is not what its part must be; the message names the line and field."""


@dataclass(frozen=True)
class _Header:
    scope: str
    session_id: str | None
    first_seq: int
    last_seq: int
    head_hash: str
    exported_at: _dt.datetime


def verify_bundle(
    lines: Iterable[bytes],
    *,
    anchors: Sequence[Anchor] = (),
    root_key: str | None = None,
) -> BundleReport:
    """Check a bundle with nothing but its lines (and `anchors` kept apart from it).

    Never raises on bad content: every problem is a line of the report naming the line, the
    field or the seq. Streams the records, keeping only the hashes anchors point at.
    """
    return _Verifier(anchors, root_key).run(lines)


class _Verifier:
    def __init__(self, outside: Sequence[Anchor], root_key: str | None) -> None:
        self.report = BundleReport(root_pinned=bool(root_key))
        self.root_key = root_key
        self.outside = list(outside)
        self.inside: list[Anchor] = []
        self.reviewers: list[dict[str, Any]] = []
        self.header: _Header | None = None
        self.phase = 0
        self.digest = sha256()
        self.lines = 0
        self.ended = False
        self.expected: int | None = None
        self.prev_hash: str | None = None
        self.last: tuple[int, str] | None = None
        self.watch: set[int] = {a.seq for a in outside}
        self.seen: dict[int, str] = {}
        self.last_session_seq: int | None = None
        self.chain_problems = 0

    def chain_problem(self, text: str) -> None:
        self.chain_problems += 1
        self.report.problem(text)

    def run(self, lines: Iterable[bytes]) -> BundleReport:
        number = 0
        for number, raw in enumerate(lines, start=1):
            if self.ended:
                self.report.problem(f"line {number}: content after the end line")
                break
            try:
                self._line(number, raw)
            except _Bad as exc:
                self.report.problem(str(exc))
                if number == 1:
                    return self.report  # not a bundle at all: nothing else is meaningful
                if PARTS[self.phase] == "record":
                    self.expected = None  # the chain resumes at the next readable record
                    self.chain_problems += 1
        if number == 0:
            self.report.problem("the file is empty: not an oversight bundle")
            return self.report
        if not self.ended:
            self.report.problem(
                f"truncated: the bundle stops after line {number} without its end line"
            )
        if self.header is not None:
            self._finish(self.header)
        return self.report

    # -- one line ---------------------------------------------------------------------------

    def _line(self, number: int, raw: bytes) -> None:
        obj = _parse(number, raw)
        part = obj.get("part")
        if number == 1 and part != "header":
            raise _Bad(f"line 1: not an {FORMAT} file: it must start with its header")
        if part not in PARTS:
            what = "missing" if part is None else f"unknown value {part!r}"
            raise _Bad(f"line {number}: field 'part': {what} (one of {', '.join(PARTS)})")
        index = PARTS.index(part)
        if index < self.phase or (part == "header" and number != 1):
            raise _Bad(
                f"line {number}: a {part} line after the {PARTS[self.phase]} lines: "
                "the bundle's parts are out of order"
            )
        self.phase = index
        if part == "end":
            self._end(number, obj)
            return
        self.digest.update(raw if raw.endswith(b"\n") else raw + b"\n")
        self.lines += 1
        if part == "header":
            self._header(obj)
        elif part == "reviewer":
            self._reviewer(number, obj)
        elif part == "anchor":
            self._anchor(number, obj)
        else:
            self._record(number, obj)

    def _header(self, obj: dict[str, Any]) -> None:
        version = obj.get("bundle")
        if version != FORMAT:
            if isinstance(version, str) and version.startswith("oversight.bundle/"):
                raise _Bad(
                    f"line 1: bundle version {version!r} is not supported (this reads {FORMAT})"
                )
            raise _Bad(f"line 1: field 'bundle': not an {FORMAT} file (got {version!r})")
        scope = obj.get("scope")
        if scope not in ("session", "store"):
            raise _Bad(f"line 1: field 'scope': expected 'session' or 'store', got {scope!r}")
        session_id = _opt_str(1, "header", obj, "session_id")
        if (scope == "session") != (session_id is not None):
            raise _Bad("line 1: field 'session_id': a session bundle names its session, no other")
        first, last = _int(1, "header", obj, "first_seq"), _int(1, "header", obj, "last_seq")
        head = obj.get("head")
        if not isinstance(head, dict):
            raise _Bad("line 1: field 'head': expected an object {seq, hash}")
        if _int(1, "header", head, "seq") != last:
            raise _Bad(f"line 1: field 'head.seq': {head['seq']} is not last_seq {last}")
        if first < 1 or last < first - 1:
            raise _Bad(f"line 1: fields 'first_seq', 'last_seq': {first}..{last} is not a range")
        if scope == "store" and first != 1:
            raise _Bad(f"line 1: field 'first_seq': a store bundle starts at seq 1, not {first}")
        exported = _str(1, "header", obj, "exported_at")
        try:
            at = _dt.datetime.fromisoformat(exported)
        except ValueError:
            raise _Bad(f"line 1: field 'exported_at': {exported!r} is not a time") from None
        _str(1, "header", obj, "store")
        self.header = _Header(
            scope, session_id, first, last, _hex(1, "header", head, "hash"), _aware(at)
        )
        self.report.header = {k: v for k, v in obj.items() if k != "part"}
        self.expected = first

    def _reviewer(self, number: int, obj: dict[str, Any]) -> None:
        for name in _REVIEWER_FIELDS:
            _str(number, "reviewer", obj, name)
        self.reviewers.append({k: v for k, v in obj.items() if k != "part"})

    def _anchor(self, number: int, obj: dict[str, Any]) -> None:
        found, unreadable = read_anchors(
            [json.dumps({k: v for k, v in obj.items() if k != "part"})]
        )
        if unreadable:
            raise _Bad(unreadable[0].replace("line 1:", f"line {number}:", 1))
        self.inside.extend(found)
        self.watch.update(a.seq for a in found)

    def _record(self, number: int, obj: dict[str, Any]) -> None:
        row = _row(number, obj)
        header = self.header
        if header is None:
            raise _Bad(f"line {number}: a record before the header")
        self.report.records += 1
        where = f"seq {row.seq} (record {row.record_id}, line {number})"
        expected = self.expected
        if row.seq < header.first_seq:
            self.chain_problem(
                f"{where} lies before the bundle's first seq {header.first_seq}: records "
                "were added to the bundle"
            )
            return
        if expected is None:
            self.prev_hash = None
        elif row.seq < expected:
            self.chain_problem(
                f"{where} comes after seq {expected - 1}: records are out of order or repeated"
            )
            return
        elif row.seq > header.last_seq:
            self.chain_problem(
                f"{where} lies beyond the head at export (seq {header.last_seq}): records "
                "were added to the bundle"
            )
            return
        elif row.seq > expected:
            missing = str(expected) if row.seq == expected + 1 else f"{expected}..{row.seq - 1}"
            self.chain_problem(f"seq {missing} missing before {where}: a record was removed")
            self.prev_hash = None
        if row.seq == 1:
            self.prev_hash = GENESIS_HASH
        if self.prev_hash is not None and row.prev_hash != self.prev_hash:
            self.chain_problem(
                f"{where}: prev_hash does not link to seq {row.seq - 1}: a record was "
                "inserted, replaced or reordered"
            )
        try:
            recomputed = row.recomputed()
        except UnicodeEncodeError:
            raise _Bad(f"line {number}: record field 'body': not valid Unicode text") from None
        if recomputed != row.hash:
            self.chain_problem(
                f"{where}: hash mismatch: its body or a column was edited after it was stored"
            )
        disagreement = body_disagreement(
            row.record_id, row.type, row.session_id, row.step_id, row.kind, row.decision,
            row.ts, row.body,
        )  # fmt: skip
        if disagreement is not None:
            self.chain_problem(f"{where}: columns disagree with the body: {disagreement}")
        if row.seq == header.first_seq:
            self.seen[row.seq - 1] = row.prev_hash  # what an anchor just before it must hold
        if row.seq in self.watch:
            self.seen[row.seq] = recomputed
        if header.session_id is not None:
            self._session_record(header, row, where)
        self.prev_hash = row.hash
        self.expected = row.seq + 1
        self.last = (row.seq, row.hash)

    def _session_record(self, header: _Header, row: ChainRow, where: str) -> None:
        if row.seq == header.first_seq:
            if row.session_id != header.session_id:
                self.chain_problem(
                    f"{where}: the bundle's first record is not of session "
                    f"{header.session_id!r}: it must start at the session's first record"
                )
            elif row.type != "session.started" and row.session_id != REVIEW_SESSION:
                self.chain_problem(
                    f"{where}: the session's first record here is {row.type!r}, not "
                    "'session.started': its earlier records were left out"
                )
        if row.session_id == header.session_id:
            self.report.session_records += 1
            self.last_session_seq = row.seq

    def _end(self, number: int, obj: dict[str, Any]) -> None:
        self.ended = True
        told = _int(number, "end", obj, "lines")
        sealed = _hex(number, "end", obj, "sha256")
        if told != self.lines:
            self.report.problem(
                f"line {number}: the end line counts {told} lines before it, the file has "
                f"{self.lines}: lines were added or removed"
            )
        if sealed != self.digest.hexdigest():
            self.report.problem(
                f"line {number}: the SHA-256 of lines 1..{self.lines} is not the one the end line "
                "holds: the bundle was changed or damaged after it was written"
            )
        else:
            self.report.checked.append(
                f"content: {self.lines} lines, SHA-256 {sealed[:16]}… as sealed by the end line"
            )

    # -- after the last line ----------------------------------------------------------------

    def _finish(self, header: _Header) -> None:
        report = self.report
        problems_before = len(report.problems)
        span = f"seq {header.first_seq}..{header.last_seq}"
        end, end_hash = self.last if self.last is not None else (header.first_seq - 1, None)
        if self.expected is not None and end < header.last_seq:
            report.problem(
                f"the records stop at seq {end}, but the bundle runs to seq {header.last_seq} "
                "(the head at export): records were removed from its end"
            )
        elif end == header.last_seq and end_hash not in (None, header.head_hash):
            report.problem(
                f"the head at export (seq {header.last_seq}) has hash "
                f"{header.head_hash[:16]}…, not the hash of the record at that seq"
            )
        if header.last_seq == 0 and header.head_hash != GENESIS_HASH:
            report.problem("an empty chain's head must be the genesis hash")
        if not self.chain_problems and len(report.problems) == problems_before:
            whose = (
                f", {report.session_records} of session {header.session_id!r}"
                if header.session_id is not None
                else ""
            )
            start = "from genesis" if header.first_seq == 1 else "from its first record"
            report.checked.append(
                f"chain: {span} ({report.records} records{whose}) recomputes {start}, each "
                f"record's hash from its body and the one before, with no seq missing, and "
                f"ends at the head at export ({header.head_hash[:16]}…)"
            )
        if header.session_id is not None and report.session_records == 0:
            report.problem(f"no record of session {header.session_id!r} in the bundle")
        self._check_anchors(header)

    def _check_anchors(self, header: _Header) -> None:
        report = self.report
        trusted, rejected = trusted_reviewers(self.reviewers, root_key=self.root_key)
        admins = {r.name: r.public_key for r in trusted.values() if r.role == "admin"}
        anchors = [(a, "bundle") for a in self.inside] + [(a, "anchors file") for a in self.outside]
        if anchors and trusted:
            root = next(iter(trusted.values()))
            if self.root_key:
                report.checked.append(f"root admin {root.name!r}: the pinned root key")
            else:
                report.warnings.append(
                    f"root admin {root.name!r} is trusted only because it is the bundle's first "
                    "registration (trust on first use): whoever wrote the bundle could have "
                    "put their own admin there. Pin the real root with --root-key or "
                    "OVERSIGHT_ROOT_KEY"
                )
        if anchors:
            report.warnings.extend(f"not trusted: {line}" for line in rejected)
        held: list[int] = []
        for anchor, source in anchors:
            verdict, why = self._anchor_outcome(header, anchor, source, admins)
            label = f"anchor of seq {anchor.seq} by {anchor.admin} at {anchor.at} ({source})"
            if verdict == "holds":
                held.append(anchor.seq)
                report.checked.append(f"{label}: {why}")
            elif verdict == "fails":
                report.problem(f"{label}: {why}")
            else:
                report.warnings.append(f"{label}: {why}")
        report.anchors_held = len(held)
        report.anchored_through = max(held) if held else None
        if report.anchored_through is None:
            report.warnings.append(
                "no signed anchor covers these records: they agree with each other, but "
                "whoever could write the store could have rewritten them all. Anchor the head "
                "with `oversight anchor` and check with --anchors FILE"
            )
        else:
            # A session is covered once its own last record is; the whole store, at its head.
            last = header.last_seq if header.session_id is None else self.last_session_seq
            if last is not None and report.anchored_through < last:
                report.warnings.append(
                    f"records after seq {report.anchored_through} (the newest anchor that "
                    f"holds) up to seq {last} rest only on the unsigned head"
                )

    def _anchor_outcome(
        self, header: _Header, anchor: Anchor, source: str, admins: dict[str, str]
    ) -> tuple[Verdict, str]:
        key = admins.get(anchor.admin)
        if key is None:
            return "fails", f"{anchor.admin!r} is not a trusted admin"
        if not verify_signature(key, anchor.payload(), anchor.signature):
            return "fails", "its signature does not verify: it was forged or altered"
        if anchor.seq > header.last_seq:
            if source == "bundle" or _signed_before(anchor, header.exported_at):
                return "fails", (
                    f"the chain ends at seq {header.last_seq}, but this head was signed before "
                    "the export: the store's tail was cut, or its chain rewritten"
                )
            return "unchecked", "signed after this bundle was exported: not covered by it"
        if anchor.seq < header.first_seq - 1:
            return "unchecked", "before this bundle's first record: not checked by it"
        if anchor.seq == 0:
            return "holds", "signature verifies; it anchors the empty chain"
        found = self.seen.get(anchor.seq)
        if found is None:
            return "fails", "the bundle does not hold the record at that seq"
        if found != anchor.hash:
            return (
                "fails",
                "the record there is different: the chain was rewritten after it was signed",
            )
        return "holds", "signature verifies, and the recomputed chain has its hash at that seq"


def _signed_before(anchor: Anchor, exported_at: _dt.datetime) -> bool:
    """Whether the anchor was signed before the export began (by the clocks that stamped them;
    strictly, as both are whole seconds): then the store's head was at least its seq."""
    try:
        return _aware(_dt.datetime.fromisoformat(anchor.at)) < exported_at
    except ValueError:
        return True


def _aware(at: _dt.datetime) -> _dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=_dt.UTC)


def _parse(number: int, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad(f"line {number}: not UTF-8 text (byte {exc.start})") from None
    try:
        obj = json.loads(text)
    except RecursionError:
        raise _Bad(f"line {number}: not JSON (nested too deeply)") from None
    except ValueError as exc:
        raise _Bad(f"line {number}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise _Bad(f"line {number}: not a JSON object")
    return obj


def _row(number: int, obj: dict[str, Any]) -> ChainRow:
    return ChainRow(
        seq=_int(number, "record", obj, "seq"),
        record_id=_str(number, "record", obj, "record_id"),
        type=_str(number, "record", obj, "type"),
        session_id=_str(number, "record", obj, "session_id"),
        step_id=_opt_str(number, "record", obj, "step_id"),
        kind=_opt_str(number, "record", obj, "kind"),
        decision=_opt_str(number, "record", obj, "decision"),
        ts=_str(number, "record", obj, "ts"),
        body=_str(number, "record", obj, "body"),
        prev_hash=_hex(number, "record", obj, "prev_hash"),
        hash=_hex(number, "record", obj, "hash"),
    )


def _get(number: int, part: str, obj: dict[str, Any], name: str) -> Any:
    if name not in obj:
        raise _Bad(f"line {number}: {part} field {name!r} is missing")
    return obj[name]


def _str(number: int, part: str, obj: dict[str, Any], name: str) -> str:
    value = _get(number, part, obj, name)
    if not isinstance(value, str):
        raise _Bad(f"line {number}: {part} field {name!r}: expected text, got {value!r:.60}")
    return value


def _opt_str(number: int, part: str, obj: dict[str, Any], name: str) -> str | None:
    value = _get(number, part, obj, name)
    if value is not None and not isinstance(value, str):
        raise _Bad(
            f"line {number}: {part} field {name!r}: expected text or null, got {value!r:.60}"
        )
    return value


def _int(number: int, part: str, obj: dict[str, Any], name: str) -> int:
    value = _get(number, part, obj, name)
    if type(value) is not int or value < 0:
        raise _Bad(
            f"line {number}: {part} field {name!r}: expected a non-negative integer, "
            f"got {value!r:.60}"
        )
    return value


def _hex(number: int, part: str, obj: dict[str, Any], name: str) -> str:
    value = _get(number, part, obj, name)
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _Bad(
            f"line {number}: {part} field {name!r}: expected 64 lowercase hex digits, "
            f"got {value!r:.60}"
        )
    return value

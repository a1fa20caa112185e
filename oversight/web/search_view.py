"""Search hits as the search page lists them: where each step is (its number in the session,
so the link lands on it in the timeline), when it happened, its tool, and the matching text
with the matches marked.

The index keeps only what it searches; the rest comes from the store, by primary key (the
records the hits point at) and, for a hit on an outcome alone, the proposal just before it on
the session's (session_id, seq) index, to name its tool.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import Connection, select

from oversight.store.columns import parse_ts
from oversight.store.schema import records
from oversight.web.queries import StoreReader
from oversight.web.render import session_url
from oversight.web.search import SearchHit
from oversight.web.timeline_view import step_link

_MARKED = re.compile(r"\[([^\[\]\n]{1,400})\]")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
"""A word as the index's tokenizer (unicode61) cuts text: letters and digits only."""


@dataclass(frozen=True, slots=True)
class SearchRow:
    hit: SearchHit
    step: int | None
    """The step's number in its session (None: the record it points at is gone)."""
    ts: _dt.datetime | None
    kind: str | None
    name: str
    step_url: str
    snippet: Markup


def search_rows(
    reader: StoreReader, hits: Sequence[SearchHit], query: str, *, per_page: int
) -> list[SearchRow]:
    """The rows for `hits`, in their order."""
    if not hits:
        return []
    t = records.c
    step_no = reader.json_field(t.body, "seq").label("step")
    name = reader.json_field(t.body, "name").label("name")
    with reader.connect() as conn:
        found = {
            int(row.seq): row
            for row in conn.execute(
                select(t.seq, t.type, t.ts, t.kind, step_no, name).where(
                    t.seq.in_(sorted({h.seq for h in hits}))
                )
            )
        }
        names: dict[int, str] = {}
        for hit in hits:
            row = found.get(hit.seq)
            if not hit.name and row is not None and row.type == "step.finished":
                names[hit.seq] = _proposal_name(reader, conn, hit) or ""
    out = []
    for hit in hits:
        row = found.get(hit.seq)
        number = int(row.step) if row is not None and row.step is not None else None
        base = session_url(hit.session_id)
        link = (
            step_link(number, per_page=per_page, current_offset=-1, base=base)
            if number is not None
            else base
        )
        out.append(
            SearchRow(
                hit=hit,
                step=number,
                ts=parse_ts(str(row.ts)) if row is not None else None,
                kind=str(row.kind) if row is not None and row.kind else None,
                name=hit.name or names.get(hit.seq, "") or (str(row.name or "") if row else ""),
                step_url=link,
                snippet=highlight(hit.snippet, query),
            )
        )
    return out


def _proposal_name(reader: StoreReader, conn: Connection, hit: SearchHit) -> str | None:
    """The tool name of the step whose outcome `hit` points at: its proposal, read backwards
    from the outcome on the session's index (a step's proposal comes shortly before it)."""
    t = records.c
    query = (
        select(reader.json_field(t.body, "name"))
        .where(
            t.session_id == hit.session_id,
            t.seq < hit.seq,
            reader.by_session(t.type) == "step.proposed",
            t.step_id == hit.step_id,
        )
        .order_by(t.seq.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else str(found)


def highlight(snippet: str, query: str) -> Markup:
    """The snippet as HTML: every match the index marked (`[word]`) in <mark>, everything else
    escaped. Text may hold brackets of its own (`a[0]`); a bracketed span is a match only when
    its words are the query's (the last one as a prefix), as the index matched them."""
    words = [_fold(w) for w in _TOKEN.findall(query)]
    parts: list[str] = []
    at = 0
    for found in _MARKED.finditer(snippet):
        inner = found.group(1)
        if not _is_match(inner, words):
            continue
        parts += [escape(snippet[at : found.start()]), Markup("<mark>"), escape(inner)]
        parts.append(Markup("</mark>"))
        at = found.end()
    parts.append(escape(snippet[at:]))
    return Markup("").join(parts)


def _is_match(text: str, words: list[str]) -> bool:
    tokens = [_fold(t) for t in _TOKEN.findall(text)]
    if not tokens or not words:
        return False
    last = words[-1]
    return all(t in words or t.startswith(last) for t in tokens)


def _fold(word: str) -> str:
    """Case and diacritics folded, as the index's tokenizer does (`remove_diacritics 2`)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))

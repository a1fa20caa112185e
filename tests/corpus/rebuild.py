"""Rebuild the real-trajectory corpus from its sources (sources.toml) into a local cache.

Public trajectories are not committed here (only our labels are): each source names a public
repository and commit, or a registry package, and the path of the transcripts in it. This
script takes them from local snapshots of those repositories (bare git directories under
--mirrors, one per `owner+name`) and from the package registry, reads them with the importers
`oversight import` uses, and writes two files to --out:

    corpus.trace.jsonl   every call as a trace line, sessions in order (for `oversight replay`)
    corpus.index.jsonl   per line: its label key, source, format, framework, research flag

    python tests/corpus/rebuild.py [--mirrors DIR] [--out DIR] [--registry-only]

A source whose snapshot is missing is reported and left out (the registry sources are always
there); the reserved sources (kept for independent evaluation) are refused by name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ (realdata)
sys.path.insert(0, str(HERE.parent.parent))  # the repository (oversight)

from realdata import cache_dir, unpacked

from oversight.canonical import canonical_json
from oversight.importing.detect import format_named
from oversight.importing.run import ImportReport, read_sessions, recognised_files
from oversight.importing.to_trace import trace_lines

# Kept for independent evaluation of this project: never read (issue 10).
RESERVED = (
    ("facebookresearch/mlgym", "trajectories/"),
    ("goodsch/brain_explore", ""),
    ("drmaciver/claude-reliability", ""),
    ("russellryanh/csci-635-liveswe-agent", ""),
    ("all-hands-ai/openhands", "evaluation/benchmarks/multi_swe_bench/examples"),
    ("openhands/openhands", "evaluation/benchmarks/multi_swe_bench/examples"),
    ("all-hands-ai/openhands", "tests/unit/resolver/mock_output"),
    ("openhands/openhands", "tests/unit/resolver/mock_output"),
    ("all-hands-ai/openhands", "tests/runtime/trajs"),
    ("openhands/openhands", "tests/runtime/trajs"),
    ("swe-agent/swe-agent", "tests/test_data/trajectories"),
    ("princeton-nlp/swe-agent", "tests/test_data/trajectories"),
)


@dataclass(frozen=True)
class Source:
    index: int
    format: str
    framework: str
    research: bool
    path: str
    repo: str | None = None
    commit: str | None = None
    registry: str | None = None

    @property
    def name(self) -> str:
        where = self.repo or self.registry or "?"
        return f"{where}:{self.path}"


def label_key(tool: str, args: dict[str, Any]) -> str:
    """A call's label key: what it is, not where it was, so the same call has one label."""
    text = canonical_json({"tool": tool, "args": args})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_sources(path: Path = HERE / "sources.toml") -> list[Source]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sources = []
    for i, raw in enumerate(data.get("source", [])):
        source = Source(
            index=i,
            format=raw["format"],
            framework=raw["framework"],
            research=bool(raw.get("research", False)),
            path=raw["path"],
            repo=raw.get("repo"),
            commit=raw.get("commit"),
            registry=raw.get("registry"),
        )
        refuse_reserved(source)
        sources.append(source)
    return sources


def refuse_reserved(source: Source) -> None:
    repo = (source.repo or "").lower()
    for reserved_repo, prefix in RESERVED:
        fork_of_mlgym = reserved_repo == "facebookresearch/mlgym" and "mlgym" in repo
        if (repo == reserved_repo or fork_of_mlgym) and source.path.startswith(prefix):
            raise SystemExit(f"sources.toml: {source.name} is reserved for independent evaluation")


def materialise(
    source: Source, mirrors: Path, staging: Path, extracted: Path | None = None
) -> Path | None:
    """The source's files on disk, or None (with a notice) when its snapshot is not here.

    Looked for, in order: `extracted` (a copy of the files alone, laid out as
    `<owner+name>/<commit[:12]>/<path>`, such as the steering repository's shared/corpus/sources
    that CI sees), the staging folder of an earlier build, then the git snapshot."""
    if source.registry is not None:
        return unpacked(source.registry) / source.path
    assert source.repo is not None and source.commit is not None
    relative = Path(source.repo.replace("/", "+")) / source.commit[:12] / source.path
    if extracted is not None and (extracted / relative).exists():
        return extracted / relative
    git_dir = mirrors / source.repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        print(f"build: no snapshot of {source.repo} under {mirrors}; left out", file=sys.stderr)
        return None
    target = staging / source.repo.replace("/", "+") / source.commit[:12]
    done = target / ".done" / hashlib.sha256(source.path.encode()).hexdigest()[:12]
    if not done.exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", f"--git-dir={git_dir}", "archive", source.commit, "--", source.path],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            print(
                f"build: {source.name}@{source.commit[:12]}: "
                f"{archive.stderr.decode(errors='replace').strip()}; left out",
                file=sys.stderr,
            )
            return None
        tar_path = target / ".archive.tar"
        tar_path.write_bytes(archive.stdout)
        with tarfile.open(tar_path) as tar:
            tar.extractall(target, filter="data")
        tar_path.unlink()
        done.parent.mkdir(parents=True, exist_ok=True)
        done.touch()
    return target / source.path


def build(
    sources: list[Source],
    mirrors: Path,
    out: Path,
    *,
    registry_only: bool,
    extracted: Path | None = None,
) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    staging = out / "sources"
    counts: dict[str, int] = {}
    report = ImportReport()
    with (
        (out / "corpus.trace.jsonl").open("w", encoding="utf-8") as trace,
        (out / "corpus.index.jsonl").open("w", encoding="utf-8") as index,
    ):
        for source in sources:
            if registry_only and source.registry is None:
                continue
            root = materialise(source, mirrors, staging, extracted)
            if root is None or not root.exists():
                continue
            fmt = format_named(source.format)
            # what the importer recognises under the source's path, in the source's format
            found = recognised_files([root], None, ImportReport())
            files = [f for f in found if f.format is fmt]
            for session in read_sessions(files, report):
                for call, line in zip(session.calls, trace_lines(session), strict=True):
                    trace.write(line.model_dump_json(exclude_none=True) + "\n")
                    index.write(
                        json.dumps(
                            {
                                "key": label_key(call.tool, call.args),
                                "source": source.index,
                                "format": source.format,
                                "framework": source.framework,
                                "research": source.research,
                                "session": session.session_id,
                                "actor": call.actor,
                            }
                        )
                        + "\n"
                    )
                    counts[source.framework] = counts.get(source.framework, 0) + 1
    for problem in report.problems[:20]:
        print(f"build: {problem}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"build: … {len(report.problems) - 20} more problems", file=sys.stderr)
    return counts


SHARED_SOURCES = HERE.parent.parent.parent / "shared" / "corpus" / "sources"
"""Where the steering repository's shared/ keeps a copy of the sources' files, beside a clone."""


def default_out() -> Path:
    return cache_dir().parent / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=default_out())
    parser.add_argument("--registry-only", action="store_true")
    parser.add_argument(
        "--extracted",
        type=Path,
        default=SHARED_SOURCES if SHARED_SOURCES.is_dir() else None,
        help="A copy of the sources' files (default: ../shared/corpus/sources when present).",
    )
    args = parser.parse_args(argv)
    counts = build(
        load_sources(),
        args.mirrors,
        args.out,
        registry_only=args.registry_only,
        extracted=args.extracted,
    )
    total = sum(counts.values())
    print(f"corpus: {total} calls in {args.out}")
    for framework, n in sorted(counts.items()):
        print(f"  {framework}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

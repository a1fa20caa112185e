"""What a session has done so far that gives its next step meaning: the open file, the working
directory, and the files it wrote.

The classifier reads nothing else: `python baseline.py` means what `baseline.py` contains, and
`edit 96:98` edits whichever file the agent opened. A `SessionView` is folded forward after each
step is classified (`observe`), like the session's facts. Replay and import build it from the
trace's own lines and never touch the disk (`root=None`); a live monitor beside the agent may
also read the live file under its `root`, bounded in size and never a device or /proc file.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shlex
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oversight.classify.aci import edit_block
from oversight.classify.shell import SimpleCommand, parse_script

# Larger files are not read: a script is source, and reading a dataset by mistake must stay cheap.
MAX_FILE_BYTES = 256 * 1024
# Writes kept per session, newest first: at most MAX_WRITTEN files and MAX_WRITTEN_CHARS
# characters of their content (a long session writing ever new files must not grow the agent's
# memory). An evicted file is remembered by name (up to MAX_FORGOTTEN of them): a live monitor
# reads it from disk; otherwise running it reads as `not read: larger than the session keeps`,
# flagged `unresolved` like any script too large to read, never as a script with no content.
MAX_WRITTEN = 512
MAX_WRITTEN_CHARS = 8 * 1024 * 1024
MAX_FORGOTTEN = 16_384
FORGOTTEN = (
    f"larger than the {MAX_WRITTEN_CHARS // (1024 * 1024)} Mi characters of written files a "
    "session keeps: written in this session, its content is no longer held"
)

# Where write tools put the path and the full new content (Claude Code Write, OpenHands
# str_replace_editor create, generic write_file tools).
_PATH_KEYS = ("file_path", "path", "filename", "file", "target_file")
_CONTENT_KEYS = ("content", "file_text", "contents", "text")
_LEADING_DOTS = re.compile(r"^(?:\.?/)+")  # `./x`, `/x`: not the dot of `.ci/x`
_CUT = re.compile(r"…\[truncated \d+ chars\]\Z")
_SYSTEM_DIRS = ("/proc/", "/sys/", "/dev/")
_EDITOR_TOOLS = frozenset({"str_replace_editor", "edit_file", "editor"})


@dataclass(frozen=True, slots=True)
class FileText:
    """A file's text as the classifier may read it, or why it could not."""

    path: str
    text: str | None
    problem: str = ""  # set when text is None: "not found", "larger than 256 KiB", ...

    @property
    def digest(self) -> str:
        return hashlib.sha256((self.text or "").encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class SessionView:
    """The session state the classifier may consult; `root=None` never reads the disk."""

    root: Path | None = None
    open_file: str | None = None
    cwd: str | None = None
    # path → full content, or None when the session changed the file in a way we cannot replay
    written: dict[str, str | None] = field(default_factory=dict)
    max_file_bytes: int = MAX_FILE_BYTES
    # path → (the file it stands for, made by `ln -s`): `ln -s ../evaluate.py notes/x.py`, or a
    # copy (`cp train.py check.py`, `mv`) whose content we do not know (`False`)
    links: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # paths whose content the session wrote and then evicted (oldest first; values unused)
    forgotten: dict[str, None] = field(default_factory=dict)
    max_written_chars: int = MAX_WRITTEN_CHARS
    _chars: int = field(default=-1, repr=False, compare=False)  # content held; -1: not counted
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # -- reading -----------------------------------------------------------------------------
    def resolve(self, path: str) -> str:
        """`path` joined to the working directory when that is known, normalised."""
        if not path.startswith("/") and self.cwd:
            path = posixpath.join(self.cwd, path)
        return posixpath.normpath(path)

    def read_file(self, path: str) -> FileText:
        """The session's own write of `path` first, then (live only) the file on disk."""
        where = self.resolve(path)
        with self._lock:
            written = self._written(where, path)
        if written is not None:
            key, text = written
            if text is not None:
                if len(text.encode("utf-8", "surrogatepass")) > self.max_file_bytes:
                    return FileText(key, None, f"larger than {self.max_file_bytes // 1024} KiB")
                return FileText(key, text)
        forgotten = written is None and (where in self.forgotten or path in self.forgotten)
        if self.root is None:
            if forgotten:
                return FileText(where, None, FORGOTTEN)
            return FileText(where, None, "not written in this session (replay reads no disk)")
        found = self._read_disk(where)
        if forgotten and found.text is None and found.problem == "not found":
            return FileText(found.path, None, FORGOTTEN)
        return found

    def aliased(self, path: str) -> str | None:
        """The file `path` stands for when the session made it a symlink or a copy of one."""
        if not self.links or not path:
            return None
        where = self.resolve(path)
        found = self.links.get(where)
        if found is not None:
            return found[0]
        # Relative to a directory we did not see the agent enter: a unique suffix match, as
        # for written files; or a path under a linked folder (`ln -s .git/hooks h; ... h/x`).
        suffix = "/" + _LEADING_DOTS.sub("", where)
        matches = [k for k in self.links if k.endswith(suffix)]
        if len(matches) == 1 and not where.startswith("/"):
            return self.links[matches[0]][0]
        for key, (target, symlink) in self.links.items():
            if not symlink:
                continue
            if where.startswith(key + "/"):
                return target + where[len(key) :]
            if not where.startswith("/"):
                cut = where.find("/")
                while cut > 0:
                    if key.endswith("/" + where[:cut]):
                        return target + where[cut:]
                    cut = where.find("/", cut + 1)
        return None

    def _written(self, where: str, given: str) -> tuple[str, str | None] | None:
        if where in self.written:
            return where, self.written[where]
        target = self.links.get(where)
        if target is not None and target[0] in self.written:
            return target[0], self.written[target[0]]
        if given in self.written:
            return given, self.written[given]
        # The agent wrote `/workspace/x.py` and runs `python x.py` from a directory we did not
        # see it enter: a unique suffix match is the same file (content can only raise a kind).
        suffix = "/" + _LEADING_DOTS.sub("", where)
        matches = [k for k in self.written if k.endswith(suffix)]
        if len(matches) == 1:
            return matches[0], self.written[matches[0]]
        return None

    def _read_disk(self, where: str) -> FileText:
        assert self.root is not None
        target = Path(where) if where.startswith("/") else self.root / where
        shown = str(target)
        real = os.path.realpath(target)
        if real.startswith(_SYSTEM_DIRS):
            return FileText(shown, None, "a system file, never read")
        try:
            # Non-blocking, and checked on the open descriptor: a FIFO swapped in after a
            # check must not hang the step.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        except (OSError, ValueError):
            return FileText(shown, None, "not found")
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return FileText(shown, None, "not a regular file")
            if info.st_size > self.max_file_bytes:
                return FileText(shown, None, f"larger than {self.max_file_bytes // 1024} KiB")
            data = os.read(fd, self.max_file_bytes + 1)
        except OSError as exc:
            return FileText(shown, None, f"unreadable ({exc.strerror or exc})")
        finally:
            os.close(fd)
        if len(data) > self.max_file_bytes:
            return FileText(shown, None, f"larger than {self.max_file_bytes // 1024} KiB")
        return FileText(shown, data.decode("utf-8", "replace"))

    # -- folding -----------------------------------------------------------------------------
    def observe(self, name: str, args: Mapping[str, Any]) -> None:
        """Fold one step's effect on the session state in (after it was classified)."""
        with self._lock:
            self._observe(name, args)

    def _observe(self, name: str, args: Mapping[str, Any]) -> None:
        command = args.get("command") if isinstance(args, Mapping) else None
        if name.lower() in _EDITOR_TOOLS and isinstance(command, str) and "path" in args:
            self._editor_tool(command, args)
            return
        path, content = _path_and_content(args)
        if path is not None and content is not None:
            self._wrote(path, content)
            return
        if path is not None and _edits(args):
            self._edited(path, args)
            return
        if isinstance(command, str):
            self._shell(command)

    def _editor_tool(self, command: str, args: Mapping[str, Any]) -> None:
        path = args.get("path")
        if not isinstance(path, str) or not path:
            return
        if command in ("view", "create"):
            self.open_file = self.resolve(path)
        text = args.get("file_text")
        if command == "create" and isinstance(text, str):
            self._wrote(path, text)
        elif command in ("str_replace", "insert", "undo_edit"):
            self._edited(path, args)

    def _wrote(self, path: str, content: str) -> None:
        key = self.resolve(path)
        if key in self.links and not self.links[key][1]:
            del self.links[key]  # a copy written over is its own file now
        # Arguments cut for storage (normalise.py) are not the file: its content is unknown.
        self._set(key, None if _CUT.search(content) else content)

    def _set(self, key: str, content: str | None) -> None:
        """Hold `content` as the newest write of `key`, evicting the oldest writes past the
        limits (their names are kept in `forgotten`, so they never read as unwritten)."""
        if self._chars < 0:
            self._chars = sum(len(t) for t in self.written.values() if t is not None)
        old = self.written.pop(key, None)
        if old is not None:
            self._chars -= len(old)
        self.forgotten.pop(key, None)
        self.written[key] = content
        if content is not None:
            self._chars += len(content)
        while len(self.written) > 1 and (
            len(self.written) > MAX_WRITTEN or self._chars > self.max_written_chars
        ):
            evicted = next(iter(self.written))
            text = self.written.pop(evicted)
            if text is not None:
                self._chars -= len(text)
            self.forgotten[evicted] = None
        while len(self.forgotten) > MAX_FORGOTTEN:
            self.forgotten.pop(next(iter(self.forgotten)))

    def _edited(self, path: str, args: Mapping[str, Any]) -> None:
        """Apply a str-replace edit to content we know; otherwise remember the file changed."""
        key = self.resolve(path)
        old = _first_str(args, ("old_string", "old_str"))
        new = _first_str(args, ("new_string", "new_str"))
        known = self.written.get(key)
        if known is not None and old and new is not None and old in known:
            everything = args.get("replace_all") is True
            self._set(key, known.replace(old, new) if everything else known.replace(old, new, 1))
            return
        self._set(key, None)

    def _editor_lines(self, command: str, first: int, last: int, body: str) -> None:
        """An editor `edit N:M` (or `insert N`) of the open file. On content we know, the lines
        are replaced (or inserted); otherwise the file is known to hold at least these lines,
        and that is what reading it before a run goes on (content only ever adds meaning)."""
        if self.open_file is None:
            return
        key = self.open_file
        known = self.written.get(key)
        new = body.rstrip("\n").split("\n") if body else []
        if known is None:
            self._wrote(key, "\n".join(new) + "\n")
            return
        lines = known.split("\n")
        if known.endswith("\n"):
            lines = lines[:-1]
        if command == "insert":
            lines[first:first] = new
        else:
            lines[max(first - 1, 0) : last] = new
        self._wrote(key, "\n".join(lines) + "\n")

    def _shell(self, command: str) -> None:
        text = command.strip()
        first = text.split(None, 1)
        if not first:
            return
        word = first[0]
        if word in ("open", "create") and "\n" not in text:
            try:
                parts = shlex.split(text)  # `open "baseline.py"`: the path, not its quotes
            except ValueError:
                parts = text.split()
            if 2 <= len(parts) <= 3 and not parts[1].startswith("-"):
                self.open_file = self.resolve(parts[1])
                if word == "create":
                    self._wrote(parts[1], "")
            return
        if word in ("edit", "insert"):
            block = edit_block(text)
            if block is not None:
                self._editor_lines(*block[:4])
                text = block[4].strip()
                if not text:
                    return
        parsed = parse_script(text)
        if parsed.error is not None:
            return
        for cmd in parsed.commands:
            if not (cmd.nested or cmd.background):
                self.apply_command(cmd)

    def apply_command(self, cmd: SimpleCommand) -> None:
        """What one shell command changes: the working directory (`cd`) and the files it
        writes (`cat > f <<EOF`, `tee f`, `echo text > f`; any other redirection forgets `f`)."""
        if cmd.argv[:1] == ("cd",):
            certain = len(cmd.argv) == 2 and _literal(cmd.argv[1])
            # `cd`, `cd -`, `cd $X`: no longer certain
            self.cwd = self.resolve(cmd.argv[1]) if certain else None
        self._links(cmd)
        for path, content, append in shell_writes(cmd):
            key = self.resolve(path)
            if append and content is not None:
                known = self.written.get(key)
                content = None if known is None else known + content
            if content is None:
                self._set(key, None)
            else:
                self._wrote(path, content)

    def _links(self, cmd: SimpleCommand) -> None:
        """`ln -s target link`, `cp src dst`, `mv src dst`: what the new name stands for."""
        argv = cmd.argv
        if not argv or argv[0] not in ("ln", "cp", "mv") or cmd.nested:
            return
        options = [a for a in argv[1:] if a.startswith("-")]
        operands = [a for a in argv[1:] if not a.startswith("-")]
        if len(operands) != 2 or not all(_literal(a) for a in operands):
            return
        source, name = operands
        key = self.resolve(name)
        symlink = argv[0] == "ln"
        if symlink:
            if not any(o == "--symbolic" or (o[:2] != "--" and "s" in o[1:]) for o in options):
                return  # a hard link of a file we cannot read is nothing we can follow
            folder = posixpath.dirname(key)
            target = source if source.startswith("/") else posixpath.join(folder, source)
        else:
            target = self.resolve(source)
            known = self.written.get(target)
            if known is not None:
                self._wrote(key, known)
                return
        self.links.pop(key, None)
        self.links[key] = (posixpath.normpath(target), symlink)
        while len(self.links) > MAX_WRITTEN:
            self.links.pop(next(iter(self.links)))

    def fork(self) -> SessionView:
        """A copy for reading one step's own commands in order, leaving the session as it was."""
        return SessionView(
            root=self.root,
            open_file=self.open_file,
            cwd=self.cwd,
            written=dict(self.written),
            links=dict(self.links),
            forgotten=dict(self.forgotten),
            max_file_bytes=self.max_file_bytes,
            max_written_chars=self.max_written_chars,
        )


def shell_writes(cmd: SimpleCommand) -> list[tuple[str, str | None, bool]]:
    """The files a simple command writes: (path, content or None when unknown, appends).

    `cat > f <<EOF`, `tee f <<EOF` and a plain `echo text > f` give the content; any other
    output redirection changes the file in a way we do not know.
    """
    out: list[tuple[str, str | None, bool]] = []
    program = cmd.argv[0] if cmd.argv else ""
    content: str | None = None
    if program == "cat" and len(cmd.argv) == 1 and cmd.stdin is not None:
        content = cmd.stdin
    elif program == "echo" and not any(a.startswith("-") for a in cmd.argv[1:2]):
        content = " ".join(cmd.argv[1:]) + "\n"
    if program == "tee" and cmd.stdin is not None:
        append = "-a" in cmd.argv or "--append" in cmd.argv
        for path in (a for a in cmd.argv[1:] if not a.startswith("-")):
            out.append((path, cmd.stdin, append))
    for redirect in cmd.redirects:
        if redirect.writes and not redirect.target.startswith("/dev/"):
            out.append((redirect.target, content, redirect.operator == ">>"))
    return out


def _literal(path: str) -> bool:
    return bool(path) and path != "-" and not any(c in path for c in "$`~*?[")


def _first_str(args: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str):
            return value
    return None


def _path_and_content(args: Mapping[str, Any]) -> tuple[str | None, str | None]:
    path = _first_str(args, _PATH_KEYS)
    if not path:
        return None, None
    return path, _first_str(args, _CONTENT_KEYS)


def _edits(args: Mapping[str, Any]) -> bool:
    return any(k in args for k in ("old_string", "old_str", "new_string", "new_str", "edits"))

"""What a command writes, read from a file the session wrote earlier.

`patch -p1 < cleanup.diff`, `git apply ci.patch`, `tar -xf fixtures.tar`, `unzip update.zip` and
`rsync -a scratch/ ./` name no destination file: the patch, the archive or the source folder
does. When the session wrote that file (or, beside a live monitor, it is in the workspace), its
content says which files change, and the path rules judge those. A patch's added lines are the
text written. `curl -K request.cfg` keeps its URL and method in a config file: the request is
the command with the file's options in place of `-K`.
"""

from __future__ import annotations

import io
import posixpath
import re
import shlex
import tarfile
import zipfile
from dataclasses import dataclass

from oversight.classify.eval_code import patch_text
from oversight.classify.patches import deleted_paths, patch_paths
from oversight.classify.paths import in_scratch
from oversight.classify.shell import SimpleCommand
from oversight.classify.workspace import SessionView

MAX_MEMBERS = 64
"""Archive members and synced files judged for one command: the rest are not listed."""


@dataclass(frozen=True, slots=True)
class Written:
    """Files a command writes, as a session file says, and the text it writes into them."""

    verb: str  # "`tar -x` of `assets/fixtures.tar` writes"
    paths: tuple[str, ...]
    text: str = ""
    deleted: tuple[str, ...] = ()


def session_writes(command: SimpleCommand, view: SessionView) -> Written | None:
    """The files `command` writes according to the session's own files, or None."""
    argv = command.argv
    if not argv:
        return None
    program = posixpath.basename(argv[0])
    if program == "patch":
        return _patch(command, view)
    if program == "git" and len(argv) >= 2 and argv[1] == "apply":
        return _git_apply(argv[2:], view)
    if program in ("tar", "bsdtar", "gtar"):
        return _tar(argv[1:], view)
    if program == "unzip":
        return _unzip(argv[1:], view)
    if program in ("rsync", "cp"):
        return _copy_tree(program, argv[1:], view)
    return None


def _patch(command: SimpleCommand, view: SessionView) -> Written | None:
    args = command.argv[1:]
    if any(a in ("--dry-run", "--check") for a in args):
        return None
    source = next((r.target for r in command.redirects if r.operator == "<"), None)
    strip = 0
    for i, arg in enumerate(args):
        if arg in ("-i", "--input") and i + 1 < len(args):
            source = args[i + 1]
        elif arg.startswith("--input="):
            source = arg.split("=", 1)[1]
        elif arg.startswith("-p") and arg[2:].isdigit():
            strip = int(arg[2:])
        elif arg.startswith("--strip=") and arg[8:].isdigit():
            strip = int(arg[8:])
    text = _text(source, view) if source else command.stdin
    return _diff(f"`patch` of `{source or 'its input'}` writes", text, strip)


_GIT_APPLY_ONLY_READS = frozenset({"--check", "--stat", "--numstat", "--summary"})


def _git_apply(args: tuple[str, ...], view: SessionView) -> Written | None:
    if _GIT_APPLY_ONLY_READS.intersection(args) and "--apply" not in args:
        return None
    files = [a for a in args if not a.startswith("-")]
    for name in files[:1]:
        return _diff(f"`git apply` of `{name}` writes", _text(name, view), 1)
    return None


def _diff(verb: str, text: str | None, strip: int) -> Written | None:
    if not text:
        return None
    paths = [_strip(p, strip) for p in patch_paths(text)]
    if not paths:
        return None
    deleted = [_strip(p, strip) for p in deleted_paths(text)]
    return Written(verb, tuple(p for p in paths if p), patch_text(text), tuple(deleted))


def _strip(path: str, count: int) -> str:
    """`patch -pN`: leading folders removed (`a/eval/metrics.py` → `eval/metrics.py`); the
    unified-diff reader already drops `a/` and `b/`, so only what is left over counts."""
    parts = path.split("/")
    return "/".join(parts[max(count - 1, 0) :]) if count > 1 else path


def _tar(args: tuple[str, ...], view: SessionView) -> Written | None:
    if not args:
        return None
    first = args[0]
    bundled = not first.startswith("-") and first.isalpha()  # `tar xf a.tar`
    flags = first if bundled else "".join(a[1:] for a in args if a[:1] == "-" and a[:2] != "--")
    long = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    if "x" not in flags and not long & {"--extract", "--get"}:
        return None
    archive = _option(args, ("-f", "--file"), bundled_letter="f")
    if archive is None and bundled and "f" in first and len(args) > 1:
        archive = args[1]
    folder = _option(args, ("-C", "--directory")) or "."
    if archive is None:
        return None
    data = _bytes(archive, view)
    if data is None:
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            names = [m.name for m in tar.getmembers()[:MAX_MEMBERS] if not m.isdir()]
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return None
    return _members(f"`tar -x` of `{archive}` writes", folder, names)


def _unzip(args: tuple[str, ...], view: SessionView) -> Written | None:
    if any(a[:1] == "-" and a[:2] != "--" and set(a[1:]) & set("lvtpZ") for a in args):
        return None  # lists, tests or pipes: writes nothing
    operands = [a for a in args if not a.startswith("-")]
    folder = _option(args, ("-d",)) or "."
    operands = [a for a in operands if a != folder]
    if not operands:
        return None
    archive = operands[0]
    data = _bytes(archive, view)
    if data is None:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            names = [i.filename for i in bundle.infolist()[:MAX_MEMBERS] if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    return _members(f"`unzip` of `{archive}` writes", folder, names)


def _members(verb: str, folder: str, names: list[str]) -> Written | None:
    if in_scratch(posixpath.join(folder, "x")):
        return None  # unpacked into a temp folder: nothing the project or its tools read
    paths = tuple(
        posixpath.normpath(posixpath.join(folder, name.lstrip("/"))) for name in names if name
    )
    return Written(verb, paths) if paths else None


def _copy_tree(program: str, args: tuple[str, ...], view: SessionView) -> Written | None:
    """`rsync -a scratch/ ./`, `cp -r scratch/. .`: the files the session wrote under the
    source folder land under the destination."""
    if program == "cp" and not any(
        a in ("-r", "-R", "-a", "--recursive", "--archive")
        or (a[:1] == "-" and a[:2] != "--" and set(a[1:]) & set("rRa"))
        for a in args
    ):
        return None
    if program == "rsync" and any(a in ("-n", "--dry-run", "--list-only") for a in args):
        return None
    operands = [a for a in args if not a.startswith("-")]
    if len(operands) < 2 or ":" in "".join(operands):
        return None  # a remote rsync is a send, judged elsewhere
    *sources, dest = operands
    paths: list[str] = []
    for source in sources:
        into = source.endswith(("/", "/."))  # contents, not the folder
        base = view.resolve(source.rstrip("/.") or ".")
        for key in list(view.written):
            rel = _under(key, base)
            if rel is None:
                continue
            name = rel if into else posixpath.join(posixpath.basename(base), rel)
            paths.append(posixpath.normpath(posixpath.join(dest, name)))
            if len(paths) >= MAX_MEMBERS:
                break
    if not paths:
        return None
    return Written(f"`{program}` of `{' '.join(sources)}` into `{dest}` writes", tuple(paths))


def _under(key: str, base: str) -> str | None:
    if base in (".", ""):
        return None  # the whole tree: every file the session ever wrote, too broad to say
    if key.startswith(base + "/"):
        return key[len(base) + 1 :]
    if not base.startswith("/") and ("/" + base + "/") in key:
        return key.split("/" + base + "/", 1)[1]
    return None


def curl_config(command: SimpleCommand, view: SessionView) -> tuple[str, ...] | None:
    """`curl -K file`: the command with the config file's options in place of `-K file`
    (`url = "..."` → `--url ...`, `request = "PUT"` → `--request PUT`, `silent` → `--silent`)."""
    argv = command.argv
    if not argv or posixpath.basename(argv[0]) != "curl":
        return None
    out: list[str] = [argv[0]]
    found = False
    i = 1
    while i < len(argv):
        arg = argv[i]
        name: str | None = None
        if arg in ("-K", "--config") and i + 1 < len(argv):
            name = argv[i + 1]
            i += 1
        elif arg.startswith("--config="):
            name = arg.split("=", 1)[1]
        elif arg.startswith("-K") and len(arg) > 2:
            name = arg[2:]
        i += 1
        if name is None:
            out.append(arg)
            continue
        text = _text(name, view)
        if text is None:
            out.append(arg)
            continue
        found = True
        out += _config_options(text)
    return tuple(out) if found else None


_CONFIG_LINE = re.compile(r"^\s*(-{0,2}[\w-]+)\s*(?:[=:]\s*|\s+)?(.*?)\s*$")


def _config_options(text: str) -> list[str]:
    options: list[str] = []
    for line in text.splitlines()[:200]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _CONFIG_LINE.match(stripped)
        if match is None:
            continue
        name, value = match.groups()
        option = name if name.startswith("-") else f"--{name}"
        options.append(option)
        if value:
            try:
                words = shlex.split(value)
            except ValueError:
                words = [value.strip("\"'")]
            options.append(words[0] if words else "")
    return options


def _option(args: tuple[str, ...], names: tuple[str, ...], bundled_letter: str = "") -> str | None:
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            return args[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
        if (
            bundled_letter
            and arg[:1] == "-"
            and arg[:2] != "--"
            and arg.endswith(bundled_letter)
            and i + 1 < len(args)
        ):
            return args[i + 1]
    return None


def _text(path: str, view: SessionView) -> str | None:
    return view.read_file(path).text


def _bytes(path: str, view: SessionView) -> bytes | None:
    """An archive's bytes. A write tool carries bytes as text: latin-1 gives them back."""
    text = _text(path, view)
    if text is None:
        return None
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")

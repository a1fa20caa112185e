"""Inline Perl, Ruby, Node and awk code (`perl -e`, `ruby -e`, `node -e`, `awk '...'`).

Python code has an AST reader (python_code.py); for these languages a one-liner is read for the
few things that make it consequential, from its string literals:

- a process it starts (`system`, `exec`, backticks, `child_process.execSync`/`spawnSync`, awk's
  `system()` and `"cmd" | getline`): the literal command is classified as shell text or argv;
  a command built at run time cannot be read, so the step is `unresolved`;
- files it writes or deletes (`unlink`, `fs.rmSync`, `fs.appendFileSync`, `File.write`...):
  the literal paths are writes, and deleting data is `destroys_data`;
- the network (sockets, HTTP clients, gawk's `/inet/`): `network`, and what network_sends makes
  of the URLs, methods, raw request lines and secret files it names;
- `eval` of computed text: `obfuscated`, as for Perl before.

What it cannot read it says so (`unresolved`), so the step can be confined rather than trusted.
"""

from __future__ import annotations

import re

from oversight.classify import destructive, network_sends
from oversight.classify.argv import Argv, program_name, split_options, word_set
from oversight.classify.result import Classification, combine
from oversight.classify.toolkit import Run, Toolkit
from oversight.classify.wrappers import shell_exec

_STRING = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'")
_SPAWN = {
    "perl": re.compile(r"\b(?:system|exec)\b\s*\(?|`|\bqx\s*[({/]|\bopen\s*\(?\s*\w+\s*,\s*\"\|"),
    "ruby": re.compile(r"\b(?:system|exec|spawn|IO\.popen|Open3\.\w+)\b\s*\(?|`|%x[({]"),
    "node": re.compile(r"\b(?:execSync|execFileSync|spawnSync|exec|execFile|spawn|fork)\s*\("),
    "awk": re.compile(r"\bsystem\s*\("),
}
_NETWORK = {
    "perl": re.compile(r"IO::Socket|LWP|HTTP::Tiny|Net::HTTP|\bsocket\s*\(|Mojo::UserAgent"),
    "ruby": re.compile(r"Net::HTTP|open-uri|TCPSocket|Socket\.|URI\.open|HTTParty|Faraday"),
    "node": re.compile(
        r"require\(\s*[\"'](?:node:)?(?:https?|net|dgram|tls|http2)[\"']\s*\)|\bfetch\s*\(|axios"
    ),
    "awk": re.compile(r"/inet[46]?/"),
}
_WRITES = {
    "perl": re.compile(
        r"\b(unlink|rename|truncate|rmtree|remove_tree)\b|open\s*\(?\s*\w+\s*,\s*[\"']\+?>"
    ),
    "ruby": re.compile(
        r"File\.(?:write|delete|unlink|rename|truncate|open\([^)]*[\"'][wa])|FileUtils\.\w+"
    ),
    "node": re.compile(
        r"\b(?:writeFile|appendFile|rm|rmdir|unlink|rename|copyFile|truncate|cp)(?:Sync)?\s*\("
    ),
    "awk": re.compile(r">>?\s*\""),
}
_DELETES = re.compile(
    r"\b(?:unlink|rmSync|rm|rmdir|rmdirSync|unlinkSync|rmtree|remove_tree|delete)\b"
)
_OBFUSCATED = re.compile(
    r"\beval\b|decode_base64|Buffer\.from\([^)]*base64|atob\(|\bpack\(|unpack1?\("
)
_HOST_PORT = re.compile(r"^([A-Za-z0-9.-]+\.[A-Za-z]{2,}|[0-9.]+|localhost):([0-9]{1,5})$")
_CONNECT = re.compile(r"\b(?:connect|createConnection|new)\s*\(\s*\d+\s*,\s*[\"']([^\"']+)[\"']")
_INET = re.compile(r"/inet[46]?/tcp/\d+/([^/\s\"']+)/(\d+)")
_METHOD = re.compile(
    r"\bmethod\s*[:=]>?\s*[\"'](\w+)[\"']|\b(?:Net::HTTP|HTTP)\.(post|put|patch|delete)\b",
    re.IGNORECASE,
)


def literals(code: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _STRING.finditer(code)]


def analyse(kit: Toolkit, language: str, code: str, run: Run, label: str) -> Classification:
    """What inline `code` in `language` (perl, ruby, node, awk) does, as one classification."""
    parts: list[Classification] = []
    flags: set[str] = set()
    spawn = _SPAWN[language]
    for match in spawn.finditer(code):
        if match.group(0) == "`" or match.group(0).startswith("%x"):
            closing = "`" if match.group(0) == "`" else ")}"
            end = min(
                (code.find(c, match.end()) for c in closing if c in code[match.end() :]), default=-1
            )
            if end < 0:
                continue
            command = code[match.end() : end]
            if "$" in command or "#{" in command:
                flags.add("unresolved")
            inner = kit.script(command, run)
            parts.append(inner.with_reason(f"{label} runs: {inner.reason}"))
            continue
        found = _spawned(kit, language, code[match.end() :], run, label)
        if found is None:
            flags.add("unresolved")
            parts.append(shell_exec(f"{label} starts a process whose command is built at run time"))
        else:
            parts.append(found)
    if language == "awk" and re.search(r"\"[^\"]*\"\s*\|\s*getline|print[^;}]*\|\s*\"", code):
        flags.add("unresolved")
    writes = _WRITES[language].search(code)
    if writes:
        paths = [s for s in literals(code[writes.start() :]) if _looks_like_path(s)]
        found = kit.writes(paths, f"{label} writes", run)
        if found is not None:
            if _DELETES.search(code):
                found = destructive.with_data_loss(found, paths)
            parts.append(found)
        elif not paths:
            flags.add("unresolved")
    if _NETWORK[language].search(code):
        flags.add("network")
        sent = network_sends.judge(label, *_request(code))
        if sent is not None:
            parts.append(sent)
        else:
            hosts = _hosts(code)
            raw = (
                network_sends.raw_request(label, hosts[0], code, _sensitive(code))
                if hosts
                else None
            )
            if raw is not None:
                parts.append(raw)
    if _OBFUSCATED.search(code):
        flags.add("obfuscated")
    if not parts:
        parts.append(shell_exec(f"{label} runs inline {language} code"))
    result = combine(parts)
    return result.with_flags(*flags) if flags else result


def _looks_like_path(text: str) -> bool:
    return (
        bool(text)
        and " " not in text.strip()
        and not text.startswith(("-", "http"))
        and ("/" in text or "." in text or text.isidentifier())
    )


def _sensitive(code: str) -> list[str]:
    return [s for s in literals(code) if network_sends.is_sensitive(s)]


def _request(code: str) -> tuple[list[str], str | None, list[str]]:
    urls = network_sends.urls_in(code)
    method_match = _METHOD.search(code)
    method = None
    if method_match:
        method = (method_match.group(1) or method_match.group(2) or "").upper()
    if not urls:
        host = next(iter(_hosts(code)), None)
        paths = [s for s in literals(code) if s.startswith("/") and len(s) > 1]
        urls = [f"//{host}{p}" for p in paths[:1]] if host and paths else []
    return urls, method, _sensitive(code)


def _hosts(code: str) -> list[str]:
    hosts = [m.group(1) for m in _INET.finditer(code)]
    for text in literals(code):
        match = _HOST_PORT.match(text)
        if match:
            hosts.append(match.group(1))
    for match in _CONNECT.finditer(code):
        hosts.append(match.group(1))
    named = re.search(r"\bhost\s*:\s*[\"']([^\"']+)[\"']", code)
    if named:
        hosts.append(named.group(1))
    hosts.extend(network_sends.urls_in(code))
    return hosts


def _spawned(kit: Toolkit, language: str, rest: str, run: Run, label: str) -> Classification | None:
    """The command a spawn call at the start of `rest` runs, or None when it is not literal."""
    call = _call_text(rest)
    if call is None:
        return None
    words = literals(call)
    if language == "awk" or (len(words) == 1 and " " in words[0]):
        if not words or len(words) != 1:
            return None
        inner = kit.script(words[0], run)
    elif words and not re.search(r"[\w$@]\s*[,)]", re.sub(_STRING, "", call).strip()):
        inner = kit.argv(tuple(words), run)
    else:
        return None
    return inner.with_reason(f"{label} runs: {inner.reason}")


def _call_text(rest: str) -> str | None:
    """The argument text of the call starting at `rest` (to its closing parenthesis or the end
    of the statement), with string literals kept whole."""
    depth = 1
    out: list[str] = []
    i = 0
    while i < len(rest):
        match = _STRING.match(rest, i)
        if match:
            out.append(match.group(0))
            i = match.end()
            continue
        char = rest[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif char in ";\n" and depth <= 1 or char == "`":
            break
        out.append(char)
        i += 1
    text = "".join(out).strip()
    return text or None


def backtick(code: str) -> str | None:
    match = re.search(r"`([^`]*)`", code)
    return match.group(1) if match else None


_TAKES = {
    "perl": word_set("-e -E -I -M -m -x -0 -l"),
    "ruby": word_set("-e -E -I -r -C -F -K -T -W -x"),
    "node": word_set("-e --eval -p --print -r --require --import -C --conditions"),
}
_CODE_OPTIONS = word_set("-e -E --eval -p --print")


def code_of(language: str, argv: Argv) -> tuple[str, list[str]]:
    """The inline code of `perl -e`, `ruby -e`, `node -e/-p` ('' when none), and the words
    after the options (the files `-i` edits, the script and its arguments)."""
    takes = _TAKES[language]
    options, rest = split_options(argv[1:], takes)
    code = "\n".join(v for n, v in options if n in _CODE_OPTIONS and n in takes and v)
    return code, rest


def in_place(argv: Argv) -> bool:
    """`-i`, `-i.bak`, `-pi`: the files named after the code are edited in place."""
    return any(
        a.startswith("-") and not a.startswith("--") and "i" in a[1:].split(".", 1)[0]
        for a in argv[1:]
        if a not in ("-e", "-E")
    )


def ruby(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    code, rest = code_of("ruby", argv)
    if in_place(argv) and rest:
        found = kit.writes(rest, "`ruby -i` edits", run)
        if found is not None:
            return found
    if code:
        return analyse(kit, "ruby", code, run, "`ruby -e`")
    if rest:
        kind, why = kit.script_kind(rest[0])
        return Classification(kind, f"`ruby {rest[0]}` runs {why}", targets=(rest[0],))
    return shell_exec("runs `ruby`", targets=("ruby",))


def awk(kit: Toolkit, argv: Argv, run: Run) -> Classification:
    """awk's program is its first non-option word: read it for `system()`, pipes, `/inet/`,
    output redirections and gawk's `-i inplace`."""
    name = program_name(argv[0])
    options, rest = split_options(
        argv[1:], word_set("-F -v -f -i -l -E --field-separator --assign --include --load")
    )
    if any(n in ("-f", "-E") for n, _ in options):
        return shell_exec(f"`{name} -f` runs an awk program from a file", targets=(name,))
    if not rest:
        return shell_exec(f"runs `{name}`", targets=(name,))
    program, files = rest[0], rest[1:]
    if any(n in ("-i", "--include") and v == "inplace" for n, v in options):
        found = kit.writes(files, f"`{name} -i inplace` edits", run)
        if found is not None:
            return found
    return analyse(kit, "awk", program, run, f"`{name}`")

"""Shell text → the simple commands it runs, using the real bash grammar (tree-sitter-bash).

Rules downstream never see raw text: they see each command's argv after quoting is removed,
with its prefix assignments, redirections, here-document input, pipeline position and whether it
was backgrounded. Commands inside `$(...)`, backticks and `<(...)` are listed too (before the
command that uses them, as bash runs them first), because they run as well.
"""

from __future__ import annotations

import base64
import re
import shlex
import threading
from dataclasses import dataclass, replace
from typing import NamedTuple

import tree_sitter
import tree_sitter_bash

from oversight.classify.argv import Argv, word_set
from oversight.classify.caching import MAX_CACHED_TEXT, text_cache

_LANGUAGE = tree_sitter.Language(tree_sitter_bash.language())
_local = threading.local()

MAX_DEPTH = 60

STATEMENTS = word_set(
    """
    program command declaration_command unset_command variable_assignment variable_assignments
    pipeline list redirected_statement subshell compound_statement if_statement elif_clause
    else_clause while_statement for_statement c_style_for_statement case_statement case_item
    do_group function_definition negated_command test_command ERROR
    """
)
SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
WRITE_OPERATORS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<>"})
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
_DQ_ESCAPE = re.compile(r"\\([$`\"\\\n])")
_BRACE = re.compile(r"\{([^{}\s$]*,[^{}\s$]*)\}")
_ARRAY_ALL = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\}$")
_ARRAY_ONE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\[([0-9]+)\]\}$")
_INDIRECT = re.compile(r"^\$\{!([A-Za-z_][A-Za-z0-9_]*)\}$")
_HEX_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]|[0-7]{1,3}|u[0-9a-fA-F]|U[0-9a-fA-F])")


_ANSI_C = re.compile(
    r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def _ansi_c_escape(match: re.Match[str]) -> str:
    """One escape of bash's $'...' quoting; unknown escapes are kept as written."""
    code = match.group(1)
    try:
        if code[0] in "xuU" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8) & 0xFF)
        if code[0] == "c" and len(code) == 2:
            return chr(ord(code[1].upper()) & 0x1F)
    except (ValueError, OverflowError):
        return match.group(0)
    return _SIMPLE_ESCAPES.get(code, match.group(0))


@dataclass(frozen=True, slots=True)
class Redirect:
    operator: str
    target: str

    @property
    def writes(self) -> bool:
        """True for output redirections to a file (not `2>&1`, not a descriptor)."""
        if self.operator not in WRITE_OPERATORS:
            return False
        return not (self.target.isdigit() or self.target in ("-", ""))


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """One command as bash would run it. `builtin` names declaration/unset/bare-assignment forms."""

    argv: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...] = ()
    redirects: tuple[Redirect, ...] = ()
    stdin: str | None = None
    background: bool = False
    pipeline: int = -1
    stage: int = 0
    nested: bool = False
    escaped: bool = False
    builtin: str = ""
    computed_name: bool = False
    """The program's name came from an expansion (`$CMD`, `$(echo ls)`), even one the
    classifier could resolve: such a command is never taken as only reading."""


@dataclass(frozen=True, slots=True)
class ParsedScript:
    commands: tuple[SimpleCommand, ...]
    error: str | None = None


class _Ctx(NamedTuple):
    background: bool = False
    nested: bool = False
    redirects: tuple[Redirect, ...] = ()
    stdin: str | None = None
    pipeline: int = -1
    stage: int = 0
    depth: int = 0


def _parser() -> tree_sitter.Parser:
    parser: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = tree_sitter.Parser(_LANGUAGE)
        _local.parser = parser
    return parser


@text_cache(4096)
def parse_script(text: str) -> ParsedScript:
    """Parse shell text once; cached because a parse costs tens of microseconds. A text too
    long for the cache is kept until the next long one: classifying a command reads its script
    two to four times (its own kind, then what it runs), and a long here-document costs
    milliseconds to parse."""
    if len(text) > MAX_CACHED_TEXT:
        last = _last_long[0]
        if last is not None and last[0] == text:
            return last[1]
        parsed = _parse_script(text)
        _last_long[0] = (text, parsed)  # one store: a thread never sees a text with another's parse
        return parsed
    return _parse_script(text)


_last_long: list[tuple[str, ParsedScript] | None] = [None]


def _parse_script(text: str) -> ParsedScript:
    source = text.encode("utf-8", "surrogatepass")
    tree = _parser().parse(source)
    walker = _Walker(source)
    walker.statement(tree.root_node, _Ctx())
    error = walker.error
    if error is None and tree.root_node.has_error:
        error = _first_error(tree.root_node)
    return ParsedScript(tuple(walker.out), error)


_FORMAT = re.compile(r"%[-+ #0]*[0-9]*(?:\.[0-9]+)?([sdbq%])")


def printed(argv: Argv) -> str:
    """What `echo ...` or `printf FORMAT ARGS...` prints (printf's format is reused while
    arguments remain, as bash does), for text piped into a shell or xargs."""
    if argv[0].rsplit("/", 1)[-1] != "printf" or len(argv) < 2:
        return " ".join(a for a in argv[1:] if not (a.startswith("-") and len(a) == 2))
    fmt, args = argv[1], list(argv[2:])
    if not _FORMAT.search(fmt.replace("%%", "")):
        return fmt.replace("%%", "%").replace("\\n", "\n")
    out: list[str] = []
    while True:
        used = 0

        def fill(match: re.Match[str]) -> str:
            nonlocal used
            if match.group(1) == "%":
                return "%"
            used += 1
            return args.pop(0) if args else ""

        out.append(_FORMAT.sub(fill, fmt))
        if not args or not used:
            break
    return "".join(out).replace("\\n", "\n")


def _echoed(commands: list[SimpleCommand]) -> str | None:
    """`$(echo push)` is the literal `push`, `$(echo cHVzaA== | base64 -d)` too; any other
    substitution stays as written (None)."""
    if len(commands) == 2 and commands[1].argv in _BASE64_DECODE:
        literal = _echoed(commands[:1])
        return None if literal is None else _base64_text(literal)
    if len(commands) != 1 or not commands[0].argv:
        return None
    argv = commands[0].argv
    words = argv[1:]
    if not words or any("$" in w or "`" in w or "\\" in w for w in words):
        return None  # expansions, or escapes printf decodes: not literal
    if argv[0] in ("echo", "printf") and not words[0].startswith("-"):
        return printed(argv).strip()
    if argv[0] == "ls" and len(words) == 1 and not words[0].startswith("-"):
        return words[0]  # `$(ls eval*.py)` names the files the glob matches
    return None


_BASE64_DECODE = frozenset({("base64", "-d"), ("base64", "--decode"), ("base64", "-D")})


def _base64_text(literal: str) -> str | None:
    """What `base64 -d` prints for `literal`, when that is text (else None: kept as written)."""
    try:
        decoded = base64.b64decode(literal, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isprintable() or decoded.strip().isprintable() else None


def _brace(text: str, limit: int = 64) -> list[str]:
    """Bash brace expansion of one word (`{git,push}` → git push; `a{1,2}b` → a1b a2b)."""
    match = _BRACE.search(text)
    if match is None:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    out: list[str] = []
    for choice in match.group(1).split(","):
        out.extend(_brace(head + choice + tail, limit))
        if len(out) >= limit:
            return out[:limit]
    return out


def _first_error(node: tree_sitter.Node) -> str:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            return f"syntax error near line {current.start_point[0] + 1}"
        stack.extend(reversed(current.children))
    return "syntax error"


class _Walker:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.out: list[SimpleCommand] = []
        self.vars: dict[str, str] = {}
        self.pipelines = 0
        self.escaped = False
        self.error: str | None = None
        self.arrays: dict[str, list[str]] = {}
        self.aliases: dict[str, str] = {}
        self.functions: dict[str, tree_sitter.Node] = {}
        self.calling: set[str] = set()
        self.positional: list[str] | None = None

    def raw(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def new_pipeline(self) -> int:
        self.pipelines += 1
        return self.pipelines

    # statements

    def statement(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        if ctx.depth > MAX_DEPTH:
            self.error = "nested too deeply to analyse"
            return
        kind = node.type
        if kind == "command":
            self.command(node, ctx)
        elif kind in ("declaration_command", "unset_command"):
            self.declaration(node, ctx)
        elif kind == "variable_assignment":
            self.bare_assignments([node], ctx)
        elif kind == "variable_assignments":
            self.bare_assignments(
                [c for c in node.named_children if c.type == "variable_assignment"], ctx
            )
        elif kind == "pipeline":
            self.pipeline(node, ctx)
        elif kind == "redirected_statement":
            self.redirected(node, ctx)
        else:
            if kind == "function_definition":
                name = node.child_by_field_name("name")
                body = node.child_by_field_name("body")
                if name is not None and body is not None:
                    self.functions[self.raw(name)] = body
            elif kind == "ERROR":
                self.broken_command(node, ctx)
            self.sequence(node, ctx)

    def broken_command(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        """Text tree-sitter cannot parse but bash runs, such as a bare brace expansion
        (`{git,push,origin}`): its words still form a command."""
        children = node.named_children
        if not children or children[0].type != "command_name":
            return
        text = self.raw(node)
        if any(c in text for c in "'\"$`\\;&|<>()"):
            return
        argv = [w for word in text.split() for w in _brace(word)]
        if argv:
            self.emit(argv, [], [], ctx.stdin, ctx)

    def sequence(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        """Any container of statements; a statement followed by `&` runs in the background."""
        inner = ctx._replace(depth=ctx.depth + 1)
        children = node.children
        for i, child in enumerate(children):
            if not child.is_named:
                continue
            if child.type in STATEMENTS:
                background = i + 1 < len(children) and children[i + 1].type == "&"
                self.statement(child, inner._replace(background=True) if background else inner)
            elif child.type not in ("comment", "heredoc_body"):
                self.substitutions(child, inner)

    def pipeline(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        pid = self.new_pipeline()
        stage = 0
        for child in node.named_children:
            if child.type in STATEMENTS:
                self.statement(child, ctx._replace(pipeline=pid, stage=stage, depth=ctx.depth + 1))
                stage += 1

    def redirected(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        redirects: list[Redirect] = []
        stdin = ctx.stdin
        then_pipe: tree_sitter.Node | None = None
        then_list: tree_sitter.Node | None = None
        background = ctx.background
        for child in node.children:
            if child.type == "file_redirect":
                redirects.append(self.file_redirect(child, ctx))
            elif child.type == "herestring_redirect":
                stdin = self.herestring(child, ctx)
            elif child.type == "heredoc_redirect":
                stdin, pipe, right, bg = self.heredoc(child, ctx, redirects)
                then_pipe = then_pipe or pipe
                then_list = then_list or right
                background = background or bg
        body = node.child_by_field_name("body")
        inner = ctx._replace(
            redirects=ctx.redirects + tuple(redirects),
            stdin=stdin,
            background=background,
            depth=ctx.depth + 1,
        )
        if then_pipe is not None:
            pid = self.new_pipeline()
            if body is not None:
                self.statement(body, inner._replace(pipeline=pid, stage=0))
            stage = 1
            for child in then_pipe.named_children:
                if child.type in STATEMENTS:
                    self.statement(
                        child,
                        ctx._replace(
                            pipeline=pid, stage=stage, background=background, depth=ctx.depth + 1
                        ),
                    )
                    stage += 1
        elif body is not None:
            self.tail(body, ctx._replace(background=background, depth=ctx.depth + 1), inner)
        if body is None:
            self.out.append(
                SimpleCommand(
                    (),
                    redirects=inner.redirects,
                    background=background,
                    nested=ctx.nested,
                    builtin="redirect",
                )
            )
        if then_list is not None:
            self.statement(then_list, ctx._replace(depth=ctx.depth + 1))

    def tail(self, node: tree_sitter.Node, plain: _Ctx, redirected: _Ctx) -> None:
        """Bash binds a trailing redirection to the last command; tree-sitter to the whole list.

        `cd evals && echo x > a.py` writes a.py from `echo` only, so only the last command of a
        list or pipeline body gets the redirections and here-document input.
        """
        statements = [c for c in node.named_children if c.type in STATEMENTS]
        if node.type == "list" and statements:
            for child in statements[:-1]:
                self.statement(child, plain)
            self.tail(statements[-1], plain, redirected)
        elif node.type == "pipeline" and statements:
            pid = self.new_pipeline()
            last = len(statements) - 1
            for stage, child in enumerate(statements):
                chosen = redirected if stage == last else plain
                self.statement(child, chosen._replace(pipeline=pid, stage=stage))
        else:
            self.statement(node, redirected)

    # redirections

    def file_redirect(self, node: tree_sitter.Node, ctx: _Ctx) -> Redirect:
        operator = ""
        target = ""
        for i, child in enumerate(node.children):
            field = node.field_name_for_child(i)
            if field == "destination":
                target = self.word(child, ctx)
            elif not child.is_named:
                operator = child.type
        return Redirect(operator, target)

    def herestring(self, node: tree_sitter.Node, ctx: _Ctx) -> str:
        return " ".join(self.word(c, ctx) for c in node.named_children)

    def heredoc(
        self, node: tree_sitter.Node, ctx: _Ctx, redirects: list[Redirect]
    ) -> tuple[str, tree_sitter.Node | None, tree_sitter.Node | None, bool]:
        """A here-document's body, plus what tree-sitter nests inside it: `| next`, `&& next`."""
        body = ""
        pipe: tree_sitter.Node | None = None
        right: tree_sitter.Node | None = None
        background = False
        for i, child in enumerate(node.children):
            if child.type == "heredoc_body":
                body = self.raw(child)
                self.substitutions(child, ctx._replace(depth=ctx.depth + 1))
            elif child.type == "file_redirect":
                redirects.append(self.file_redirect(child, ctx))
            elif child.type == "pipeline":
                pipe = child
            elif node.field_name_for_child(i) == "right":
                right = child
            elif child.type == "ERROR" and "&" in self.raw(child):
                background = True
        return body, pipe, right, background

    # commands

    def command(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        outer_escaped, self.escaped = self.escaped, False
        computed = False
        assignments: list[tuple[str, str]] = []
        argv: list[str] = []
        redirects: list[Redirect] = []
        stdin = ctx.stdin
        for i, child in enumerate(node.children):
            kind = child.type
            if kind == "variable_assignment":
                assignments.append(self.assignment(child, ctx))
            elif kind == "command_name":
                computed = computed or _has_expansion(child)
                for c in child.named_children:
                    argv.extend(self.words(c, ctx))
            elif kind == "file_redirect":
                redirects.append(self.file_redirect(child, ctx))
            elif kind == "herestring_redirect":
                stdin = self.herestring(child, ctx)
            elif node.field_name_for_child(i) == "argument" or child.is_named:
                argv.extend(self.words(child, ctx))
        self.emit(argv, assignments, redirects, stdin, ctx, computed=computed)
        self.escaped = outer_escaped

    def emit(
        self,
        argv: list[str],
        assignments: list[tuple[str, str]],
        redirects: list[Redirect],
        stdin: str | None,
        ctx: _Ctx,
        *,
        computed: bool = False,
    ) -> None:
        """Record one command; an alias or a function defined earlier in the text runs its body
        too (with the command's arguments as `$@`), so what it hides is seen."""
        if argv and argv[0] == "alias":
            for definition in argv[1:]:
                name, eq, body = definition.partition("=")
                if eq:
                    self.aliases[name] = body
        self.out.append(
            SimpleCommand(
                tuple(argv),
                tuple(assignments),
                ctx.redirects + tuple(redirects),
                stdin,
                ctx.background,
                ctx.pipeline,
                ctx.stage,
                ctx.nested,
                self.escaped,
                computed_name=computed,
            )
        )
        if not argv or ctx.depth > MAX_DEPTH // 2:
            return
        alias = self.aliases.get(argv[0])
        if alias is not None:
            text = " ".join([alias, *(shlex.quote(a) for a in argv[1:])])
            for inner in parse_script(text).commands:
                self.out.append(replace(inner, nested=inner.nested or ctx.nested))
        function = self.functions.get(argv[0])
        if function is not None and argv[0] not in self.calling:
            outer, self.positional = self.positional, list(argv[1:])
            self.calling.add(argv[0])
            self.statement(function, ctx._replace(depth=ctx.depth + 1))
            self.calling.discard(argv[0])
            self.positional = outer

    def declaration(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        keyword = node.children[0].type if node.children else ""
        argv: list[str] = [keyword]
        assignments: list[tuple[str, str]] = []
        for child in node.children[1:]:
            if child.type == "variable_assignment":
                name, value = self.assignment(child, ctx)
                assignments.append((name, value))
                if keyword != "local":
                    self.vars[name] = value
            elif child.is_named:
                argv.append(self.word(child, ctx))
        self.out.append(
            SimpleCommand(
                tuple(argv),
                tuple(assignments),
                ctx.redirects,
                ctx.stdin,
                ctx.background,
                ctx.pipeline,
                ctx.stage,
                ctx.nested,
                builtin=keyword,
            )
        )

    def bare_assignments(self, nodes: list[tree_sitter.Node], ctx: _Ctx) -> None:
        assignments = [self.assignment(n, ctx) for n in nodes]
        for name, value in assignments:
            self.vars[name] = value
        self.out.append(
            SimpleCommand(
                (),
                tuple(assignments),
                ctx.redirects,
                ctx.stdin,
                ctx.background,
                ctx.pipeline,
                ctx.stage,
                ctx.nested,
                builtin="assign",
            )
        )

    def assignment(self, node: tree_sitter.Node, ctx: _Ctx) -> tuple[str, str]:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = self.raw(name_node) if name_node is not None else ""
        if value_node is not None and value_node.type == "array":
            items = [w for c in value_node.named_children for w in self.words(c, ctx)]
            self.arrays[name] = items
            return name, items[0] if items else ""
        value = self.word(value_node, ctx) if value_node is not None else ""
        if name_node is not None and self.source[name_node.end_byte : name_node.end_byte + 2] == (
            b"+="
        ):
            value = self.vars.get(name, "") + value
        return name, value

    # words

    def words(self, node: tree_sitter.Node, ctx: _Ctx) -> list[str]:
        """The words bash makes of one argument: unquoted expansions of known values are split
        on IFS, `"${a[@]}"` and `"$@"` give one word each, `{a,b}` brace-expands."""
        kind = node.type
        if kind in ("simple_expansion", "expansion"):
            listed = self.listed(node)
            if listed is not None:
                return listed
            text = self.word(node, ctx)
            if "$" in text:
                return [text]
            return self.split(text)
        if kind == "string" and len(node.named_children) == 1:
            listed = self.listed(node.named_children[0])
            if listed is not None:
                return listed
        text = self.word(node, ctx)
        if kind in ("word", "concatenation") and "{" in text and "," in text:
            return _brace(text)
        return [text]

    def listed(self, node: tree_sitter.Node) -> list[str] | None:
        """`$@`, `$*` inside a function called here; `${a[@]}` of an array set here."""
        raw = self.raw(node)
        if raw in ("$@", "${@}", "$*", "${*}"):
            return list(self.positional) if self.positional is not None else None
        match = _ARRAY_ALL.match(raw)
        if match and match.group(1) in self.arrays:
            return list(self.arrays[match.group(1)])
        return None

    def split(self, text: str) -> list[str]:
        separators = self.vars.get("IFS", " \t\n")
        if not separators:
            return [text]
        pieces = re.split("[" + re.escape(separators) + "]", text)
        return [p for p in pieces if p] or [""]

    def word(self, node: tree_sitter.Node, ctx: _Ctx) -> str:
        """The text bash would pass, with quotes removed and known variables substituted."""
        kind = node.type
        if kind == "word":
            return _BACKSLASH.sub(r"\1", self.raw(node))
        if kind == "raw_string":
            return self.raw(node)[1:-1]
        if kind == "string":
            return self.joined(node, ctx, node.start_byte + 1, node.end_byte - 1, quoted=True)
        if kind == "concatenation":
            return self.joined(node, ctx, node.start_byte, node.end_byte, quoted=False)
        if kind == "ansi_c_string":
            return self.ansi_c(self.raw(node)[2:-1])
        if kind == "simple_expansion":
            name = self.raw(node)[1:]
            if name.isdigit() and self.positional is not None:
                index = int(name) - 1
                return self.positional[index] if 0 <= index < len(self.positional) else ""
            return self.vars.get(name, "$" + name)
        if kind == "expansion":
            names = node.named_children
            if len(names) == 1 and names[0].type == "variable_name" and node.child_count == 3:
                name = self.raw(names[0])
                return self.vars.get(name, "${" + name + "}")
            raw = self.raw(node)
            indirect = _INDIRECT.match(raw)
            if indirect and self.vars.get(indirect.group(1), "") in self.vars:
                return self.vars[self.vars[indirect.group(1)]]
            element = _ARRAY_ONE.match(raw)
            if element and element.group(1) in self.arrays:
                items = self.arrays[element.group(1)]
                index = int(element.group(2))
                return items[index] if index < len(items) else ""
        if kind in SUBSTITUTIONS:
            nested = _Ctx(nested=True, depth=ctx.depth + 1)
            before = len(self.out)
            for child in node.named_children:
                if child.type in STATEMENTS:
                    self.statement(child, nested)
                else:
                    self.substitutions(child, nested)
            echoed = _echoed(self.out[before:]) if kind == "command_substitution" else None
            if echoed is not None and len(self.out) - before == 2:
                self.escaped = True  # decoded from base64: readable now, hidden as written
            return self.raw(node) if echoed is None else echoed
        self.substitutions(node, ctx)
        return self.raw(node)

    def joined(self, node: tree_sitter.Node, ctx: _Ctx, start: int, end: int, quoted: bool) -> str:
        parts: list[str] = []
        position = start
        for child in node.children:
            if child.start_byte < start or child.end_byte > end or not child.is_named:
                continue
            if child.start_byte > position:
                parts.append(self._gap(position, child.start_byte, quoted))
            if child.type == "string_content":
                parts.append(_DQ_ESCAPE.sub(r"\1", self.raw(child)))
            else:
                parts.append(self.word(child, ctx))
            position = child.end_byte
        if end > position:
            parts.append(self._gap(position, end, quoted))
        return "".join(parts)

    def _gap(self, start: int, end: int, quoted: bool) -> str:
        text = self.source[start:end].decode("utf-8", "replace")
        return _DQ_ESCAPE.sub(r"\1", text) if quoted else _BACKSLASH.sub(r"\1", text)

    def ansi_c(self, body: str) -> str:
        if _HEX_ESCAPE.search(body):
            self.escaped = True
        return _ANSI_C.sub(_ansi_c_escape, body)

    def substitutions(self, node: tree_sitter.Node, ctx: _Ctx) -> None:
        """Walk the commands hidden in `$(...)`/`<(...)` anywhere inside a non-statement node."""
        if ctx.depth > MAX_DEPTH:
            self.error = "nested too deeply to analyse"
            return
        if node.type in SUBSTITUTIONS:
            self.word(node, ctx)
            return
        for child in node.named_children:
            if child.type in SUBSTITUTIONS:
                self.word(child, ctx)
            elif child.type in STATEMENTS:
                self.statement(child, ctx._replace(depth=ctx.depth + 1))
            elif child.named_child_count:
                self.substitutions(child, ctx._replace(depth=ctx.depth + 1))


_EXPANSIONS = frozenset(
    {"command_substitution", "simple_expansion", "expansion", "process_substitution"}
)


def _has_expansion(node: tree_sitter.Node) -> bool:
    """Whether a word's text is computed by the shell (a variable or a substitution in it)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _EXPANSIONS:
            return True
        stack.extend(current.children)
    return False

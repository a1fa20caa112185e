"""A small PowerShell reader: statements, pipelines, strings, blocks; enough to classify a call.

Codex Desktop on Windows runs its shell tool through PowerShell, whose syntax bash's grammar
cannot read (`\\` is a path separator, not an escape; `@'...'@` is a string; `{ }` is a script
block). This reads the text into nested blocks of statements; it runs and expands nothing.
Anything it cannot read (an unterminated string, an unmatched bracket) raises `Unreadable`, so
the caller fails closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
# Characters that end a bare word (an argument such as `code\x.py` or `-Encoding:UTF8`).
WORD_END = frozenset(" \t\r\n;|&(){},<>") | frozenset(SINGLE_QUOTES) | frozenset(DOUBLE_QUOTES)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "e": "\x1b"}

_TYPE = re.compile(r"\[\s*[A-Za-z_][\w.`]*(?:\[[^\]\n]*\])?\s*\]")
_VAR = re.compile(r"\$(?:(?:global|local|script|private|using|env|variable):)?(?:\w+|[_?^$])")
_BRACED_VAR = re.compile(r"\$\{([^}\n]+)\}")
_REDIRECT = re.compile(r"(?:[1-6*])?>>?(?:&[12])?")
_MEMBER = re.compile(r"[A-Za-z_]\w*")
_ASSIGN = re.compile(r"(?:[-+*/%]|\?\?)?=(?!=)")


class Unreadable(ValueError):
    """The text is not PowerShell this reader understands (unterminated string, bracket...)."""


@dataclass
class Token:
    """One element of a command or expression.

    kinds: `word` (bare word), `str` (quoted or here-string), `var`, `op`, `group` (`(`, `$(`,
    `@(`, `{`, `@{`, `[` index), `type` (`[IO.File]`), `member` (`.Name` or `::Name`, with
    `body` holding a method call's arguments), `redirect`.
    """

    kind: str
    text: str
    space: bool = False
    """Whitespace came before it: adjacent tokens form one argument (`$dir\\x.py`)."""
    value: str = ""
    """A word's or string's text, escapes applied, variables left as written (`$x`)."""
    expands: bool = False
    """A double-quoted string or bare word that names variables or `$( )` expansions."""
    body: list[Statement] | None = None
    inner: list[list[Statement]] = field(default_factory=list)
    """The `$( )` blocks inside an expandable string: commands that run too."""


Element = list[Token]
"""One command or expression: a pipeline stage."""


@dataclass
class Statement:
    """A pipeline: its stages, in order."""

    elements: list[Element]


def parse(text: str) -> list[Statement]:
    """The statements of a PowerShell script; raises `Unreadable`."""
    reader = _Reader(text)
    block = reader.block(None)
    return block


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth = 0

    def block(self, closer: str | None) -> list[Statement]:
        self.depth += 1
        if self.depth > 40:
            raise Unreadable("nesting too deep")
        statements: list[Statement] = []
        elements: list[Element] = []
        element: Element = []
        text = self.text
        space = True

        def end_element() -> None:
            nonlocal element
            if element:
                elements.append(element)
            element = []

        def end_statement() -> None:
            nonlocal elements
            end_element()
            if elements:
                statements.append(Statement(elements))
            elements = []

        while True:
            start = self.i
            while self.i < len(text) and (
                text[self.i] in " \t\r" or text.startswith("`\n", self.i)
            ):
                self.i += 2 if text[self.i] == "`" else 1
            if self.i > start:
                space = True
            if self.i >= len(text):
                if closer is not None:
                    raise Unreadable(f"`{closer}` missing")
                break
            c = text[self.i]
            if closer is not None and c == closer:
                self.i += 1
                break
            if c in ")}]":
                raise Unreadable(f"unmatched `{c}`")
            if c in "\n;":
                self.i += 1
                # a pipeline continues on the next line after a trailing `|`
                if c == "\n" and not element and elements:
                    continue
                end_statement()
                space = True
                continue
            if c == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end == -1 else end
                continue
            if text.startswith("<#", self.i):
                end = text.find("#>", self.i + 2)
                if end == -1:
                    raise Unreadable("unterminated block comment")
                self.i = end + 2
                continue
            if text.startswith("||", self.i) or text.startswith("&&", self.i):
                self.i += 2
                end_statement()
                space = True
                continue
            if c == "|":
                self.i += 1
                if not element:
                    raise Unreadable("empty pipeline stage")
                end_element()
                space = True
                continue
            token = self.token(c, space, element)
            element.append(token)
            space = False
        self.depth -= 1
        end_statement()
        return statements

    def token(self, c: str, space: bool, element: Element) -> Token:
        text = self.text
        i = self.i
        prev = element[-1] if element else None
        adjacent = (
            prev is not None
            and not space
            and prev.kind in ("var", "group", "str", "type", "member")
        )
        redirect = _REDIRECT.match(text, i)
        if redirect and (c == ">" or (space or prev is None)):
            self.i = redirect.end()
            return Token("redirect", redirect.group(0), space)
        if c in "&," or c == "<":
            self.i += 1
            return Token("op", c, space)
        if c == "(":
            self.i += 1
            return Token("group", "(", space, body=self.block(")"))
        if c == "{":
            self.i += 1
            return Token("group", "{", space, body=self.block("}"))
        if c == "$" and text.startswith("$(", i):
            self.i += 2
            return Token("group", "$(", space, body=self.block(")"))
        if c == "@" and text.startswith("@(", i):
            self.i += 2
            return Token("group", "@(", space, body=self.block(")"))
        if c == "@" and text.startswith("@{", i):
            self.i += 2
            return Token("group", "@{", space, body=self.block("}"))
        if c == "@" and i + 1 < len(text) and text[i + 1] in SINGLE_QUOTES + DOUBLE_QUOTES:
            return self.here_string(space)
        if c == "[" and adjacent:
            self.i += 1
            return Token("group", "[", space, body=self.block("]"))
        if c == "[":
            found = _TYPE.match(text, i)
            if found:
                self.i = found.end()
                return Token("type", found.group(0)[1:-1].strip().replace("`", ""), space)
        if c == "." and adjacent and _MEMBER.match(text, i + 1):
            return self.member(i + 1, space)
        if text.startswith("::", i) and adjacent and _MEMBER.match(text, i + 2):
            return self.member(i + 2, space)
        if prev is not None and prev.kind in ("var", "group") and (m := _ASSIGN.match(text, i)):
            self.i = m.end()
            return Token("op", m.group(0), space)
        if c == "=":
            self.i += 1
            return Token("op", "=", space)
        if c in SINGLE_QUOTES:
            value = self.single(i + 1)
            return Token("str", text[i : self.i], space, value=value)
        if c in DOUBLE_QUOTES:
            value, inner = self.double(i + 1, None)
            return Token("str", text[i : self.i], space, value, "$" in value, inner=inner)
        if c == "$":
            braced = _BRACED_VAR.match(text, i)
            if braced:
                self.i = braced.end()
                name = braced.group(1)
                return Token("var", name.lower(), space, value=name)
            var = _VAR.match(text, i)
            if var:
                self.i = var.end()
                name = var.group(0)[1:]
                return Token("var", name.lower(), space, value=name)
        return self.word(space)

    def member(self, start: int, space: bool) -> Token:
        found = _MEMBER.match(self.text, start)
        assert found is not None
        self.i = found.end()
        token = Token("member", found.group(0).lower(), space, value=found.group(0))
        if self.text.startswith("(", self.i):
            self.i += 1
            token.body = self.block(")")
        return token

    def word(self, space: bool) -> Token:
        text = self.text
        out: list[str] = []
        inner: list[list[Statement]] = []
        start = self.i
        expands = False
        while self.i < len(text) and text[self.i] not in WORD_END:
            c = text[self.i]
            if c == "`" and self.i + 1 < len(text):
                out.append(text[self.i + 1])
                self.i += 2
                continue
            if c == "$" and text.startswith("$(", self.i):
                self.i += 2
                inner.append(self.block(")"))
                out.append("$(...)")
                expands = True
                continue
            if c == "$":
                expands = True
            out.append(c)
            self.i += 1
        while self.i < len(text) and text[self.i] in SINGLE_QUOTES + DOUBLE_QUOTES:
            # a quoted part glued to a word: `--name="a b"`
            if text[self.i] in SINGLE_QUOTES:
                out.append(self.single(self.i + 1))
            else:
                value, more = self.double(self.i + 1, None)
                out.append(value)
                inner += more
                expands = expands or "$" in value
            while self.i < len(text) and text[self.i] not in WORD_END:
                out.append(text[self.i])
                self.i += 1
        if self.i == start:
            raise Unreadable(f"unexpected `{text[self.i]}`")
        return Token("word", text[start : self.i], space, "".join(out), expands, inner=inner)

    def single(self, start: int) -> str:
        text = self.text
        out: list[str] = []
        i = start
        while i < len(text):
            c = text[i]
            if c in SINGLE_QUOTES:
                if i + 1 < len(text) and text[i + 1] in SINGLE_QUOTES:
                    out.append(c)
                    i += 2
                    continue
                self.i = i + 1
                return "".join(out)
            out.append(c)
            i += 1
        raise Unreadable("unterminated '...' string")

    def double(self, start: int, here: str | None) -> tuple[str, list[list[Statement]]]:
        """An expandable string up to its closing quote (or `"@` at a line start for `here`)."""
        text = self.text
        out: list[str] = []
        inner: list[list[Statement]] = []
        self.i = start
        while self.i < len(text):
            c = text[self.i]
            if here is not None and text.startswith(here, self.i):
                self.i += len(here)
                return "".join(out), inner
            if here is None and c in DOUBLE_QUOTES:
                if self.i + 1 < len(text) and text[self.i + 1] in DOUBLE_QUOTES:
                    out.append(c)
                    self.i += 2
                    continue
                self.i += 1
                return "".join(out), inner
            if c == "`" and self.i + 1 < len(text):
                nxt = text[self.i + 1]
                out.append(ESCAPES.get(nxt, nxt) if nxt != "$" else "\\$")
                self.i += 2
                continue
            if text.startswith("$(", self.i):
                self.i += 2
                inner.append(self.block(")"))
                out.append("$(...)")
                continue
            out.append(c)
            self.i += 1
        raise Unreadable('unterminated "..." string')

    def here_string(self, space: bool) -> Token:
        text = self.text
        start = self.i
        quote = text[start + 1]
        line_end = text.find("\n", start + 2)
        if line_end == -1 or text[start + 2 : line_end].strip():
            raise Unreadable("a here-string's opening quote must end its line")
        single = quote in SINGLE_QUOTES
        closer = "\n" + ("'" if single else '"') + "@"
        body_start = line_end + 1
        if single:
            end = text.find(closer, line_end)
            if end == -1:
                raise Unreadable("unterminated here-string")
            self.i = end + len(closer)
            value = text[body_start:end] if end >= body_start else ""
            return Token("str", text[start : self.i], space, value.replace("\r", ""))
        if text.startswith(closer[1:], body_start):
            self.i = body_start + 2
            return Token("str", text[start : self.i], space, "")
        value, inner = self.double(body_start, closer)
        return Token("str", text[start : self.i], space, value, "$" in value, inner=inner)

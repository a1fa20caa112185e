"""Git commands that switch the project's git hooks off: its checks on the agent's own commits.

Writing `.git/hooks/*` is tampering by path (`paths.DEFAULT_TAMPER`); these reach the same end
without writing a hook: `--no-verify` (`git commit -n`) skips pre-commit and commit-msg hooks,
and `core.hooksPath` points git at another folder of hooks (`/dev/null`: none at all).
"""

from __future__ import annotations

from oversight.classify.argv import Argv

HOOKS_PATH = "core.hookspath"
# `git commit` short options that take a value: in a cluster, letters after one are its value.
_COMMIT_VALUE_LETTERS = frozenset("mFCctS")
# Read-only `git config` forms: asking for core.hooksPath is not changing it.
_CONFIG_READS = frozenset({"--get", "--get-all", "--get-regexp", "-l", "--list", "get", "list"})


def skips_hooks(argv: Argv) -> str | None:
    """Why the git command `argv` switches hooks off, or None when it does not."""
    args = list(argv[1:])
    for i, arg in enumerate(args):
        if arg == "-c" and i + 1 < len(args) and _sets_hooks_path(args[i + 1]):
            return f"`git -c {args[i + 1]}` runs git with another folder of hooks"
    sub_at = _subcommand_index(args)
    if sub_at is None:
        return None
    sub, rest = args[sub_at], args[sub_at + 1 :]
    if "--no-verify" in rest:
        return f"`git {sub} --no-verify` skips the project's git hooks"
    if sub == "commit" and any(_commit_cluster_has_n(a) for a in rest):
        return "`git commit -n` skips the project's git hooks"
    if (
        sub == "config"
        and any(a.lower() == HOOKS_PATH for a in rest)
        and _CONFIG_READS.isdisjoint(rest)
        and _config_sets(rest)
    ):
        return "`git config core.hooksPath` changes which git hooks run"
    return None


def _sets_hooks_path(setting: str) -> bool:
    return setting.split("=", 1)[0].strip().lower() == HOOKS_PATH


def _subcommand_index(args: list[str]) -> int | None:
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("-c", "-C", "--git-dir", "--work-tree", "--namespace", "--config-env"):
            skip = True
            continue
        if not arg.startswith("-"):
            return i
    return None


def _commit_cluster_has_n(arg: str) -> bool:
    if not arg.startswith("-") or arg.startswith("--") or len(arg) < 2:
        return False
    for letter in arg[1:]:
        if letter == "n":
            return True
        if letter in _COMMIT_VALUE_LETTERS:
            return False
    return False


def _config_sets(rest: list[str]) -> bool:
    """`git config [--global] core.hooksPath VALUE`, `git config set ...`, `--unset ...`."""
    if any(a.startswith("--unset") for a in rest) or "unset" in rest or "set" in rest:
        return True
    words = [a for a in rest if not a.startswith("-")]
    at = [w.lower() for w in words].index(HOOKS_PATH)
    return len(words) > at + 1

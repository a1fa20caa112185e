"""Network sends: requests that change state on another machine, and local files sent to one.

Fetching from the network is ordinary research work (papers, wheels, an API's issues), and so is
poking a challenge server with a form. What a person should see first is narrower:

- a request that changes state on a remote service: PUT, PATCH or DELETE, or a POST whose URL
  path names the action (`/deploy`, `/pulls/7/merge`, `/releases`): a deploy or an API call that
  acts for the project (`deploy`, with `publish`);
- an upload (`curl -T`), or a request that carries a secret (`.env`, keys, tokens), a dataset or
  checkpoint, or the environment, off the machine: publishing, or exfiltration (`publish`).

Requests to this machine (`localhost`, `127.0.0.1`) are the agent testing its own server, and
never count. The same judgement serves curl, wget, netcat, `/dev/tcp`, and the HTTP calls found
in inline Perl, Ruby, Node, awk and Python code.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from oversight.classify.argv import word_set
from oversight.classify.destructive import is_data_path
from oversight.classify.result import Classification
from oversight.classify.words import split_words
from oversight.kinds import Kind

CHANGING = frozenset({"PUT", "PATCH", "DELETE"})
METHODS = CHANGING | {"POST"}
# URL path words that name an action on the service (a POST there acts, not asks).
ACTION_WORDS = word_set(
    """
    deploy deploys deployment deployments release releases publish rollout rollouts promote
    merge merges
    """
)
LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0", "::1", "[::1]", "host.docker.internal"})
SECRET_NAMES = word_set(
    """
    .env .envrc .netrc .npmrc .pypirc .git-credentials credentials credentials.json id_rsa
    id_ed25519 id_ecdsa .htpasswd secrets.json secrets.yaml secrets.yml token.json
    """
)
SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".env")
# Programs whose output is the environment or a secret store.
ENV_DUMPERS = word_set("env printenv set export declare")
ENVIRONMENT = "the environment"
_URL = re.compile(r"""(?:https?|wss?)://[^\s'"`<>\\)]+""")
_REQUEST_LINE = re.compile(r"\b(PUT|POST|PATCH|DELETE) (/[^\s'\"\\]*)")
PUBLISH = frozenset({"publish", "network"})
# A GraphQL mutation's first field (`mutation { mergePullRequest(...) }`): a POST whose body
# names an action (ACTION_WORDS) acts on the service, whatever the URL (`/graphql`).
_MUTATION = re.compile(r"\bmutation\b[^{]{0,200}\{\s*(?:\w+\s*:\s*)?([A-Za-z_]\w*)")


def is_local(url: str) -> bool:
    """True when the URL (or bare host) points at this machine."""
    text = url.strip().strip("'\"")
    if "://" not in text and not text.startswith("//"):
        text = "//" + text
    try:
        host = (urlsplit(text).hostname or "").lower()
    except ValueError:
        return False
    return host in LOCAL_HOSTS or host.startswith("127.") or host == ""


def is_secret(path: str) -> bool:
    """`.env`, `~/.netrc`, `deploy.key`, `credentials.json`: files that hold secrets."""
    base = posixpath.basename(path.strip().strip("'\"").rstrip("/"))
    return base in SECRET_NAMES or base.endswith(SECRET_SUFFIXES)


def is_sensitive(path: str) -> bool:
    """A secret, or data (datasets, checkpoints, weights, databases) that should stay here."""
    return path == ENVIRONMENT or (bool(path) and (is_secret(path) or is_data_path(path)))


def sensitive_in(words: Iterable[str]) -> list[str]:
    """The words (or the paths inside `$(...)`-bearing words) that name sensitive files."""
    found: list[str] = []
    for word in words:
        for piece in re.split(r"[\s=@<>()'\"?&]+", word):
            if piece and not piece.startswith(("-", "http", "$")) and is_sensitive(piece):
                found.append(piece)
    return found


def action_word(url: str) -> str | None:
    """The word in the URL's path that names an action (`deploy`, `merge`), or None."""
    try:
        path = urlsplit(url if "://" in url or url.startswith("//") else "//" + url).path
    except ValueError:
        return None
    for part in path.split("/"):
        for word in split_words(part):
            if word.lower() in ACTION_WORDS:
                return word.lower()
    return None


def judge(
    tool: str,
    urls: Iterable[str],
    method: str | None = None,
    sent: Iterable[str] = (),
    uploads: Iterable[str] = (),
    body: str = "",
) -> Classification | None:
    """What a request by `tool` to `urls` does beyond fetching, or None when it only fetches.

    `method` is the HTTP method (None: a plain fetch), `sent` the local files or streams the
    request carries, `uploads` the files it uploads as the resource itself.
    """
    remote = [u for u in urls if u and not is_local(u)]
    if not remote:
        return None
    where = remote[0]
    targets = tuple(remote[:4])
    up = [u for u in uploads if u]
    if up:
        return Classification(
            Kind.DEPLOY, f"{tool} uploads `{up[0]}` to `{where}`", PUBLISH, (*up[:3], *targets)
        )
    secret = [s for s in sent if s and is_sensitive(s)]
    if secret:
        return Classification(
            Kind.SHELL_EXEC,
            f"{tool} sends `{secret[0]}` off the machine, to `{where}`",
            PUBLISH,
            (*secret[:3], *targets),
        )
    verb = (method or "").upper()
    if verb in CHANGING:
        return Classification(
            Kind.DEPLOY, f"{tool} sends a {verb} request to `{where}`", PUBLISH, targets
        )
    if verb == "POST":
        mutation = _MUTATION.search(body) if body else None
        if mutation is not None and not ACTION_WORDS.isdisjoint(split_words(mutation.group(1))):
            return Classification(
                Kind.DEPLOY,
                f"{tool} sends a GraphQL mutation `{mutation.group(1)}` to `{where}`",
                PUBLISH,
                targets,
            )
        word = next((w for w in map(action_word, remote) if w), None)
        if word is not None:
            return Classification(
                Kind.DEPLOY,
                f"{tool} POSTs to `{where}`, whose path names an action (`{word}`)",
                PUBLISH,
                targets,
            )
    return None


def urls_in(text: str) -> list[str]:
    return _URL.findall(text)


def request_lines(text: str) -> list[tuple[str, str]]:
    """Raw HTTP request lines written by hand (`PUT /repos/x/merge`): (method, path)."""
    return [(m.group(1), m.group(2)) for m in _REQUEST_LINE.finditer(text)]


def raw_request(tool: str, host: str, text: str, sent: Iterable[str] = ()) -> Classification | None:
    """A hand-written HTTP request (or any bytes) sent to `host` over a raw socket."""
    lines = request_lines(text)
    if not lines:
        return judge(tool, [host], None, sent)
    found: Classification | None = None
    for method, path in lines:
        found = judge(tool, [f"//{host}{path}"], method, sent)
        if found is not None:
            return found
    return found

"""What a step may use when it runs in the sandbox: the `capabilities:` section of a pack.

Each entry names a kind (or `default`, for every step) and what a step of that kind may use once
its decision lets it run (with `approved: true`, only once a person approved it): network (`none`, `remote`: the git remote an approved push names,
`hosts`: an allowlist, `full`), GPUs, credentials (environment variables by name) and extra
writable paths. A step's grant is `default` plus its kind's entry, except:

- a step flagged `unresolved` or `obfuscated` (the classifier could not tell what it does) gets
  `default` only, whatever kind it was given: what we cannot recognise, we confine;
- protected paths (evaluation code, agent-host settings, hooks, CI) stay read-only unless a
  person approved this very step, and oversight's own files are hidden from every step.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from oversight.kinds import ALL_KINDS

Network = Literal["none", "remote", "hosts", "full"]


class CapabilityGrant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    network: Network | None = None
    """None: what `default` says (itself `none` when unset)."""
    hosts: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    gpu: bool | None = None
    credentials: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(
        default_factory=list
    )
    writable: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    approved: bool = False
    """Only when a person approved this very step (not a rule, not a standing grant)."""

    def over(self, base: CapabilityGrant) -> CapabilityGrant:
        """This grant on top of `base`: set values win, lists add up."""
        return CapabilityGrant(
            network=self.network if self.network is not None else base.network,
            hosts=[*base.hosts, *self.hosts],
            gpu=self.gpu if self.gpu is not None else base.gpu,
            credentials=[*base.credentials, *self.credentials],
            writable=[*base.writable, *self.writable],
        )


CapabilitySection = dict[
    Annotated[
        str, Field(pattern="^(default|" + "|".join(k.replace(".", r"\.") for k in ALL_KINDS) + ")$")
    ],
    CapabilityGrant,
]

CONFINING_FLAGS = frozenset({"unresolved", "obfuscated", "oversized"})

DEFAULT_SECTION: dict[str, CapabilityGrant] = {
    "default": CapabilityGrant(network="none", gpu=False),
    "train.launch": CapabilityGrant(gpu=True, approved=True),
    "code.apply": CapabilityGrant(network="remote", approved=True),
    "deploy": CapabilityGrant(network="full", approved=True),
}
"""A pack without a `capabilities:` section: nothing for ordinary steps; once a person
approved it, GPUs for a training launch, its own remote for a push, the network for a deploy.
(A policy that allows a push without a person does not hand it the remote.)"""


def grant_for(
    section: dict[str, CapabilityGrant],
    kind: str,
    flags: frozenset[str],
    *,
    approved_by_person: bool = False,
) -> CapabilityGrant:
    """What a step of `kind` with `flags` may use, from a pack's section."""
    section = section or DEFAULT_SECTION
    base = section.get("default", CapabilityGrant())
    if flags & CONFINING_FLAGS:
        return base
    own = section.get(kind)
    if own is None or (own.approved and not approved_by_person):
        return base
    return own.over(base)

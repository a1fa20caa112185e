"""A seccomp filter that refuses new Unix-domain sockets inside the sandbox.

A read-only mount does not stop `connect()` to a socket file: a step could reach the Docker
daemon (`/run/docker.sock`), the session bus or an SSH agent and act through it, whatever its
grant. With no network granted, the step gets no Unix sockets either: `socket(AF_UNIX, ...)`
fails with EPERM. Written as classic BPF by hand (no libseccomp), for x86_64 and aarch64;
elsewhere no filter is built and the sandbox says so. With a host allowlist the in-sandbox relay
needs a Unix socket to reach the proxy, so that grant runs without this filter.
"""

from __future__ import annotations

import platform
import struct

# offsets in struct seccomp_data
_NR, _ARCH, _ARG0 = 0, 4, 16
# classic BPF opcodes
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW = 0x7FFF0000
_EPERM = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
AF_UNIX = 1
_X32_BIT = 0x40000000

# machine → (AUDIT_ARCH_*, socket syscall number)
_ARCHES = {
    "x86_64": (0xC000003E, 41),
    "amd64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
    "arm64": (0xC00000B7, 198),
}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def deny_unix_sockets(machine: str | None = None) -> bytes | None:
    """The BPF program, or None where this machine's architecture is not supported."""
    arch = _ARCHES.get((machine or platform.machine()).lower())
    if arch is None:
        return None
    audit_arch, socket_nr = arch
    program = [
        _insn(_LD_W_ABS, 0, 0, _ARCH),
        _insn(_JEQ_K, 1, 0, audit_arch),  # native calls go on; any other ABI is refused
        _insn(_RET_K, 0, 0, _EPERM),
        _insn(_LD_W_ABS, 0, 0, _NR),
        _insn(_JGE_K, 0, 1, _X32_BIT),  # x32 numbers alias the native ones: refuse them
        _insn(_RET_K, 0, 0, _EPERM),
        _insn(_JEQ_K, 0, 3, socket_nr),
        _insn(_LD_W_ABS, 0, 0, _ARG0),
        _insn(_JEQ_K, 0, 1, AF_UNIX),
        _insn(_RET_K, 0, 0, _EPERM),
        _insn(_RET_K, 0, 0, _ALLOW),
    ]
    return b"".join(program)

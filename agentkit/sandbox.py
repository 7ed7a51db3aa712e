"""Run a tool's program in an OS sandbox: bubblewrap (`bwrap`) on Linux.

The `shell` and `python` packs run every command through `run`. With mode `"bwrap"` (the default)
the program gets:

- **a filesystem of its own**: the system folders (`SYSTEM_PATHS`) and the Python installation
  read-only; the workspace read-write, except its `.agentkit/` folder (read-only); a private,
  empty tmpfs at `/tmp` (also `HOME`); a minimal `/dev`; a fresh `/proc`. Nothing else of the host
  exists in it: no home folders, no `/root`, `/run`, `/var`, `/mnt` or other trees. Files and
  folders under `/etc` that only root may read (`/etc/shadow`, `/etc/ssl/private`) are hidden.
  Everything but the workspace, `/tmp` and `/dev/shm` is mounted read-only.
- **its own PID, IPC and UTS namespaces** (other processes and their `/proc/*/environ` are
  invisible), no capabilities, a new session, and it dies with agentkit;
- **no network** (a network namespace of its own) unless `network=True`;
- **a scrubbed environment**: cleared, then `PATH`, `HOME=/tmp`, `TMPDIR=/tmp`, the locale
  variables in `ENV_KEEP` and those named in `$AGENTKIT_SANDBOX_ENV` (comma-separated, e.g.
  `PYTEST_DISABLE_PLUGIN_AUTOLOAD`), except names that look like secrets (`SECRET_NAME`: keys,
  tokens, passwords); provider keys and other secrets never reach it;
- **limits** (`Limits`, set with util-linux `prlimit` inside the sandbox): CPU seconds, address
  space, processes, file size, open files, no core files; each output stream is cut to its head
  and tail (`output_bytes`), and the whole sandbox is killed at the wall-clock timeout.

With mode `"none"` (the user opted out) the program runs directly in the workspace, with the same
scrubbed environment (keeping the host's `PATH` and `HOME`), timeout and output cap, and nothing
else confined.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, assert_never

from agentkit.errors import ToolRetry

SandboxMode = Literal["bwrap", "none"]
SANDBOX_MODES: tuple[SandboxMode, ...] = ("bwrap", "none")
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
SYSTEM_BIN = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV_KEEP = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")
ENV_PASS = "AGENTKIT_SANDBOX_ENV"
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH", re.IGNORECASE)
INSTALL_HINT = (
    "shell and python tools run only inside a sandbox, and none is available here: {why}. "
    "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap), or, if you accept running them unconfined, opt out with "
    "`agentkit run --sandbox none` or Agent(..., sandbox='none')"
)
_GRACE = 2.0  # seconds to drain the pipes after a kill


@dataclass(kw_only=True, frozen=True)
class Limits:
    """Resource limits of one sandboxed program (each process gets them; see `setrlimit(2)`).

    The kernel does not apply the process limit to root.
    """

    cpu_seconds: int = 60
    memory_bytes: int = 4 * 2**30
    processes: int = 1024
    file_bytes: int = 2**30
    open_files: int = 1024
    output_bytes: int = 2**20  # per stream: its first and last half are kept

    def prlimit(self, program: str) -> list[str]:
        """The `prlimit` command line that sets these limits, then runs what follows it."""
        return [
            program, f"--cpu={self.cpu_seconds}", f"--as={self.memory_bytes}",
            f"--nproc={self.processes}", f"--fsize={self.file_bytes}",
            f"--nofile={self.open_files}", "--core=0", "--",
        ]


@dataclass(kw_only=True, frozen=True)
class Completed:
    """How a sandboxed program ended: its exit code and output, decoded with replacement."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run(
    argv: Sequence[str], *, workspace: Path, timeout: float, mode: SandboxMode = "bwrap",
    network: bool = False, limits: Limits | None = None,
) -> Completed:
    """Run `argv` in `workspace` confined as `mode` says; raises `ToolRetry` if it cannot start.

    Args:
        argv: the program and its arguments (an absolute path, or a name on the sandbox's PATH).
        workspace: the folder the program works in; the only host folder it may write.
        timeout: seconds of wall-clock time before the program (all of its processes) is killed.
        mode: "bwrap" for the sandbox, "none" to run unconfined (the user opted out).
        network: whether the sandboxed program may use the network.
        limits: resource limits; `Limits()` when None.
    """
    limits = limits or Limits()
    if mode == "bwrap":
        command = [*sandbox_command(workspace, network=network), *limits.prlimit(_prlimit())]
        env = {"PATH": SYSTEM_BIN}
    elif mode == "none":
        command, env = [], plain_env()
    else:
        assert_never(mode)
    return _execute([*command, *argv], cwd=workspace, env=env, timeout=timeout,
                    cap=limits.output_bytes)


def find_bwrap() -> str | None:
    """The path of the `bwrap` program, or None when it is not installed."""
    return shutil.which("bwrap")


def sandbox_command(workspace: Path, *, network: bool = False) -> list[str]:
    """The `bwrap` command line that confines a program to `workspace` (the program follows)."""
    bwrap = find_bwrap()
    if bwrap is None:
        raise ToolRetry(INSTALL_HINT.format(why="the `bwrap` program is not installed"))
    if (problem := _probe(bwrap)) is not None:
        raise ToolRetry(INSTALL_HINT.format(why=f"{bwrap} does not work here ({problem})"))
    return [bwrap, *bwrap_args(workspace, network=network)]


def bwrap_args(workspace: Path, *, network: bool = False) -> list[str]:
    """`bwrap`'s options, in order: namespaces, read-only system, private /tmp, workspace, env."""
    ws = str(workspace.resolve())
    args = ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--unshare-pid",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        args.append("--unshare-net")
    args += _system_mounts(network=network)
    args += ["--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc"]
    for prefix in _python_prefixes():
        args += ["--ro-bind", prefix, prefix]
    args += ["--bind", ws, ws]
    records = os.path.join(ws, ".agentkit")
    if os.path.isdir(records) and not os.path.islink(records):
        args += ["--ro-bind", records, records]
    args += ["--remount-ro", "/", "--chdir", ws, "--clearenv"]
    for name, value in sandbox_env().items():
        args += ["--setenv", name, value]
    return args


def sandbox_env() -> dict[str, str]:
    """The whole environment of a sandboxed program."""
    path = f"{os.path.dirname(sys.executable)}:{SYSTEM_BIN}"
    return {"LANG": "C.UTF-8", **_kept(ENV_KEEP), "PATH": path, "HOME": "/tmp", "TMPDIR": "/tmp"}


def plain_env() -> dict[str, str]:
    """The environment of an unconfined program (mode "none"): the same scrub, host PATH, HOME."""
    return {"PATH": SYSTEM_BIN, "LANG": "C.UTF-8", **_kept(("PATH", "HOME", *ENV_KEEP))}


def _kept(names: Sequence[str]) -> dict[str, str]:
    """The host's values of `names` and of the variables `$AGENTKIT_SANDBOX_ENV` names."""
    passed = [n.strip() for n in os.environ.get(ENV_PASS, "").split(",")]
    wanted = [*names, *(n for n in passed if n and not SECRET_NAME.search(n))]
    return {name: os.environ[name] for name in wanted if name in os.environ}


@functools.cache
def _probe(bwrap: str) -> str | None:
    """None when `bwrap` can build a sandbox here, else what it said (once per process)."""
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--cap-drop", "ALL",
             "true"], capture_output=True, text=True, errors="replace", timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def _prlimit() -> str:
    found = shutil.which("prlimit", path=SYSTEM_BIN)
    if found is None:
        raise ToolRetry(INSTALL_HINT.format(why="`prlimit` (util-linux) is not installed"))
    return found


def _system_mounts(*, network: bool) -> list[str]:
    args: list[str] = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _root_only("/etc"):
        args += ["--tmpfs", path, "--remount-ro", path] if path.endswith("/") else [
            "--ro-bind", "/dev/null", path]
    resolv = os.path.realpath("/etc/resolv.conf")
    if network and os.path.isfile(resolv) and not _under(resolv, SYSTEM_PATHS):
        args += ["--ro-bind", resolv, resolv]  # e.g. systemd-resolved's file in /run
    return args


@functools.cache
def _root_only(top: str) -> tuple[str, ...]:
    """Files (and folders, ending with '/') under `top` that others may not read."""
    found: list[str] = []
    for folder, dirs, files in os.walk(top):
        readable = []
        for name in dirs:
            path = os.path.join(folder, name)
            mode = _mode(path)
            if stat.S_ISLNK(mode) or (mode & stat.S_IROTH and mode & stat.S_IXOTH):
                readable.append(name)
            elif stat.S_ISDIR(mode):
                found.append(path + "/")
        dirs[:] = readable
        for name in files:
            path = os.path.join(folder, name)
            mode = _mode(path)
            if stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                found.append(path)
    return tuple(found)


def _mode(path: str) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:  # gone since it was listed
        return stat.S_IFLNK


def _python_prefixes() -> list[str]:
    """The folders of the running Python (its venv and base install) not already visible."""
    found: list[str] = []
    candidates = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    for path in sorted(candidates | {os.path.realpath(p) for p in candidates}):
        if os.path.isdir(path) and not _under(path, (*SYSTEM_PATHS, *found)):
            found.append(path)
    return found


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


@dataclass
class _Capture:
    """The head and tail of a stream, at most `cap` bytes in all; the middle is counted."""

    cap: int
    head: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    cut: int = 0

    def add(self, chunk: bytes) -> None:
        room = self.cap // 2 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        extra = len(self.tail) - (self.cap - self.cap // 2)
        if extra > 0:
            del self.tail[:extra]
            self.cut += extra

    def text(self) -> str:
        if not self.cut:
            return (self.head + self.tail).decode("utf-8", errors="replace")
        head, tail = (part.decode("utf-8", errors="replace") for part in (self.head, self.tail))
        return f"{head}\n[... {self.cut} bytes of output cut ...]\n{tail}"


def _execute(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float, cap: int
) -> Completed:
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as e:
        raise ToolRetry(f"cannot start {command[0]!r}: {e}") from e
    with process:
        out, err = _Capture(cap), _Capture(cap)
        timed_out = _collect(process, {process.stdout: out, process.stderr: err}, timeout)
        try:
            process.wait(timeout=_GRACE)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.wait()
    return Completed(exit_code=process.returncode, stdout=out.text(), stderr=err.text(),
                     timed_out=timed_out)


def _collect(
    process: subprocess.Popen[bytes], streams: dict[IO[bytes] | None, _Capture], timeout: float
) -> bool:
    """Read both pipes until they close; kill the process group at the deadline (True then)."""
    deadline, timed_out = time.monotonic() + timeout, False
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            if stream is not None:
                selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                if timed_out:
                    break  # a process that escaped the group holds a pipe open: give up on it
                timed_out = True
                _kill(process)
                deadline = time.monotonic() + _GRACE
                continue
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    streams[key.fileobj].add(chunk)  # type: ignore[index]
                else:
                    selector.unregister(key.fileobj)
    return timed_out


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the process group (under bwrap, killing it ends the whole PID namespace)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)

"""Escape attempts against the built-in packs, through real agent runs with a scripted model.

Each attempt is a tool call a model (or a prompt injected into what it reads) could make. The
test writes a secret file outside the workspace and puts a provider key in the environment, runs
the attempts, and checks that the secret and the key appear nowhere in the run's records, that
nothing outside the workspace changed, and that the shell and python calls really ran (so a
refusal cannot pass for confinement). A control run with `sandbox="none"` shows that the same
attempts do leak without the sandbox, so these tests would fail if the sandbox were gone.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentkit import (
    Agent,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    ToolCall,
    load_tools,
    sandbox,
)
from agentkit.sandbox import _probe, find_bwrap
from agentkit.store import Store
from tests.scripts import tool_results


def _no_sandbox_reason() -> str | None:
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap is not installed (apt-get install bubblewrap; .ci/run installs it)"
    problem = _probe(bwrap)
    return None if problem is None else f"bubblewrap cannot create a sandbox here: {problem}"


NO_SANDBOX = _no_sandbox_reason()
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=NO_SANDBOX or "")
pytestmark = needs_sandbox


def calls_then_finish(calls: list[ToolCall]) -> Callable[[ModelRequest], object]:
    """A one-step plan whose executor makes `calls` in order, then finishes."""
    plan = Plan(strategy="Try the calls.", steps=[PlanStep(
        id="s1", title="Try", instructions="Make the calls.", success_criteria="they answered",
        difficulty="medium", expected_calls=len(calls))])  # sized to them: never split

    def script(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return "done"
        done = len(tool_results(request))
        return calls[done] if done < len(calls) else ToolCall(name="finish",
                                                              arguments={"result": "done"})

    return script


@dataclass(kw_only=True)
class Target:
    """What an attacker is after: a secret file outside the workspace and a provider key."""

    tmp: Path
    workspace: Path
    outside: Path
    secret_file: Path
    secret: str
    key: str
    db: Path

    victim: int  # a host process with the key in its environment

    def fill(self, text: str) -> str:
        return text.format(secret=self.secret_file, outside=self.outside, ws=self.workspace,
                           tmp=self.tmp, pid=self.victim, home=os.path.expanduser("~"))

    def run(
        self, pack: str, argument: str, texts: list[str], **options: Any
    ) -> list[dict[str, Any]]:
        """Run `texts` (filled in) as calls of `pack`'s tool; the recorded calls, no finish."""
        name = {"shell": "run_shell", "python": "run_python"}[pack]
        calls = [ToolCall(name=name, arguments={argument: self.fill(t)}) for t in texts]
        return self.run_calls(calls, tools=[load_tools(pack)], **options)

    def run_calls(
        self, calls: list[ToolCall], *, tools: list[Any], spacer: ToolCall | None = None,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Run `calls`, a few per agent run; `spacer` goes after each (a subtask stops after
        three errors in a row) and is left out of the recorded calls returned."""
        recorded: list[dict[str, Any]] = []
        size = 3 if spacer else 6  # a medium subtask has 8 steps
        for start in range(0, len(calls), size):
            batch = calls[start:start + size]
            if spacer is not None:
                batch = [each for call in batch for each in (call, spacer)]
            agent = Agent(FunctionModel(calls_then_finish(batch)), tools=tools, db=str(self.db),
                          workspace=self.workspace, **options)
            result = agent.run_sync("try to get out")
            assert result.status == "completed", result.error
            recorded += [c for i, c in enumerate(Store(str(self.db)).get_tool_calls(
                result.run_id)) if c.name != "finish" and not (spacer and i % 2)]
        return recorded

    def assert_nothing_leaked(self, recorded: list[dict[str, Any]]) -> None:
        for call in recorded:
            assert self.secret not in call.result, call
            assert self.key not in call.result, call
        records = b"".join(p.read_bytes() for p in self.db.parent.glob(self.db.name + "*"))
        assert self.secret.encode() not in records and self.key.encode() not in records
        assert self.secret_file.read_text() == self.secret
        assert sorted(p.name for p in self.outside.iterdir()) == ["secret.txt"]


VICTIM = "echo ready; sleep 60"


@pytest.fixture
def target(tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = f"top-secret-{uuid.uuid4().hex}"
    (outside / "secret.txt").write_text(secret)
    key = f"sk-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("AGENTKIT_SANDBOX_ENV", "OPENAI_API_KEY")  # named, and still not passed
    with subprocess.Popen(["sh", "-c", VICTIM], env={**os.environ},
                          stdout=subprocess.PIPE) as victim:
        try:
            assert victim.stdout is not None and victim.stdout.readline() == b"ready\n"
            # The control: on the host, the victim's environment shows the key.
            assert key in Path(f"/proc/{victim.pid}/environ").read_text(errors="replace")
            yield Target(tmp=tmp_path, workspace=workspace, outside=outside,
                         secret_file=outside / "secret.txt", secret=secret, key=key,
                         db=tmp_path / "records" / "runs.db", victim=victim.pid)
        finally:
            victim.kill()


def assert_ran(recorded: list[dict[str, Any]], count: int) -> None:
    """Every call ran its program (a refusal would not prove confinement)."""
    assert len(recorded) == count
    for call in recorded:
        assert call.status == "ok" and call.result.startswith("exit code "), call


SHELL_READS = [
    "cat {secret}",
    "cat ../outside/secret.txt",
    "cd / && cat {secret}",
    "cd / && ls -aR {tmp} && cat {outside}/*",
    "sh -c 'cat {secret}'",
    "bash -c 'cat {secret}'",
    "echo $(cat {secret})",
    "echo `cat {secret}`",
    "env cat {secret}",
    "echo {secret} | xargs cat",
    "find {outside} -name secret.txt -exec cat {{}} \\;",
    "timeout 5 cat {secret}",
    "nohup cat {secret}; cat nohup.out",
    "ln -s {secret} link; cat link",
    "ln {secret} hard; cat hard",
    "cp {secret} copy.txt; cat copy.txt",
    "python3 -c \"print(open('{secret}').read())\"",
    "env; printenv OPENAI_API_KEY",
    "cat /proc/1/environ /proc/self/environ /proc/$PPID/environ | tr '\\0' '\\n'",
    "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done",
    "cat /proc/{pid}/environ; ls /proc/{pid}/",
    "cat /etc/shadow /etc/gshadow",
]


def test_shell_cannot_read_outside_the_workspace_or_the_environment(target: Target) -> None:
    recorded = target.run("shell", "command", SHELL_READS)
    assert_ran(recorded, len(SHELL_READS))
    target.assert_nothing_leaked(recorded)
    by_command = {json.loads(c.arguments)["command"]: c.result for c in recorded}
    assert "No such file or directory" in by_command[target.fill("cat {secret}")]
    assert "HOME=/tmp" in by_command["env; printenv OPENAI_API_KEY"]
    assert "root:" not in by_command["cat /etc/shadow /etc/gshadow"]


SHELL_WRITES = [
    "echo pwned > {secret}",
    "echo x > {outside}/new.txt",
    "cd / && echo x > {outside}/new.txt",
    "echo x > ../outside/new.txt",
    "mkdir -p {outside}/newdir",
    "sh -c 'echo x > {outside}/new.txt'; bash -c 'rm -f {secret}'",
    "mv {secret} stolen.txt; ln -sf /dev/null {secret}",
    "touch /etc/agentkit-{marker} /usr/agentkit-{marker} /agentkit-{marker}",
    "touch {home}/agentkit-{marker} /root/agentkit-{marker}",
    "echo x > /tmp/agentkit-{marker}",
    "unshare -Urm sh -c 'mount -o remount,rw /usr && touch /usr/agentkit-{marker}'",
]


def test_shell_cannot_write_outside_the_workspace(target: Target) -> None:
    marker = uuid.uuid4().hex
    commands = [c.replace("{marker}", marker) for c in SHELL_WRITES]
    host_paths = [Path(p) / f"agentkit-{marker}" for p in
                  ("/etc", "/usr", "/", os.path.expanduser("~"), "/root", "/tmp")]
    try:
        recorded = target.run("shell", "command", [*commands, "echo inside > made.txt"])
        assert_ran(recorded, len(commands) + 1)
        target.assert_nothing_leaked(recorded)
        assert not [p for p in host_paths if p.exists()]
        assert (target.workspace / "made.txt").read_text() == "inside\n"  # the workspace works
        assert "Read-only file system" in recorded[7].result
        assert "Operation not permitted" in recorded[10].result  # no namespace of its own
    finally:
        for path in host_paths:
            path.unlink(missing_ok=True)


PYTHON_ATTEMPTS = [
    "print(open('{secret}').read())",
    "import os; os.chdir('/'); print(open('{secret}').read())",
    "open('{outside}/new.txt', 'w').write('x')",
    "open('{secret}', 'w').write('pwned')",
    "import os; print(dict(os.environ))",
    "print(open('/proc/1/environ', 'rb').read())",
    "import os\nfor p in os.listdir('/proc'):\n    if p.isdigit():\n"
    "        print(p, open(f'/proc/{{p}}/environ', 'rb').read())",
    "import os; os.symlink('{secret}', 'pylink'); print(open('pylink').read())",
    "import os; os.link('{secret}', 'pyhard'); print(open('pyhard').read())",
    "import subprocess; print(subprocess.run(['cat', '{secret}'], capture_output=True, text=True))",
    "import shutil; shutil.rmtree('{outside}')",
    "import pathlib; print([str(p) for p in pathlib.Path('{tmp}').rglob('*')])",
]


def test_python_cannot_read_write_or_see_secrets(target: Target) -> None:
    recorded = target.run("python", "code", PYTHON_ATTEMPTS)
    assert_ran(recorded, len(PYTHON_ATTEMPTS))
    target.assert_nothing_leaked(recorded)
    assert "FileNotFoundError" in recorded[0].result
    assert "'HOME': '/tmp'" in recorded[4].result


LIST = ToolCall(name="list_dir", arguments={"path": "."})


def test_files_cannot_reach_outside_even_through_planted_links(target: Target) -> None:
    (target.workspace / "planted").symlink_to(target.secret_file)
    (target.workspace / "planted_dir").symlink_to(target.outside, target_is_directory=True)
    os.link(target.secret_file, target.workspace / "hard.txt")
    attempts = [
        ("read_file", {"path": str(target.secret_file)}),
        ("read_file", {"path": "../outside/secret.txt"}),
        ("read_file", {"path": "planted"}),
        ("read_file", {"path": "planted_dir/secret.txt"}),
        ("write_file", {"path": "planted_dir/new.txt", "content": "x"}),
        ("write_file", {"path": "hard.txt", "content": "pwned"}),
        ("edit_file", {"path": "hard.txt", "old": "top", "new": "pwned"}),
        ("read_file", {"path": "/proc/self/environ"}),
        ("grep", {"pattern": "top-secret", "path": ".."}),
        ("list_dir", {"path": "planted_dir"}),
        ("read_file", {"path": "a\x00b"}),
        ("read_file", {"path": "x" * 5000}),
        ("copy_file", {"source": "planted_dir/secret.txt", "target": "copy.txt"}),
        ("append_file", {"path": "hard.txt", "text": "pwned"}),
        ("move_file", {"source": "planted", "target": "moved.txt"}),
        ("make_dir", {"path": "planted_dir/sub"}),
    ]
    calls = [ToolCall(name=name, arguments=args) for name, args in attempts]
    recorded = target.run_calls(calls, tools=[load_tools("files")], spacer=LIST)
    os.unlink(target.workspace / "hard.txt")  # the test's own link holds the secret's inode
    assert [c.status for c in recorded] == ["error"] * len(attempts)
    target.assert_nothing_leaked(recorded)
    assert "hard links" in recorded[5].result and "NUL byte" in recorded[10].result


def test_agentkit_records_in_the_workspace_cannot_be_touched(target: Target) -> None:
    target.db = target.workspace / ".agentkit" / "runs.db"
    target.db.parent.mkdir()
    Store(str(target.db))  # the database exists before the tools start
    shell = target.run("shell", "command", [
        "rm -f .agentkit/runs.db; echo x > .agentkit/runs.db; touch .agentkit/new",
    ])
    assert "Read-only file system" in shell[0].result
    calls = [ToolCall(name="write_file", arguments={"path": ".agentkit/runs.db", "content": ""}),
             ToolCall(name="read_file", arguments={"path": ".agentkit/runs.db"}),
             ToolCall(name="write_file", arguments={"path": "copy.db", "content": ""})]
    files = target.run_calls(calls, tools=[load_tools("files")], spacer=LIST)
    assert [c.status for c in files] == ["error"] * 3
    assert "agentkit's own records" in files[0].result
    assert len(Store(str(target.db)).list_runs(10)) == 2  # both runs are still recorded


# --- network ------------------------------------------------------------------------------------


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"reached-the-host")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def host_server() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()
    thread.join()


NETWORK_ATTEMPTS = [
    "curl -s --max-time 2 http://127.0.0.1:{port}/curl",
    "python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}/py', "
    "timeout=2).read())\"",
    "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}; printf \"GET /tcp HTTP/1.0\\r\\n\\r\\n\" >&3; "
    "cat <&3'",
]


def test_no_network_unless_the_agent_allows_it(
    target: Target, host_server: tuple[int, list[str]]
) -> None:
    port, hits = host_server
    commands = [c.replace("{port}", str(port)) for c in NETWORK_ATTEMPTS]
    if shutil.which("curl") is None:
        commands = commands[1:]
    recorded = target.run("shell", "command", commands)
    assert_ran(recorded, len(commands))
    assert hits == [] and not any("reached-the-host" in c.result for c in recorded)
    python = target.run("python", "code", [
        f"import socket; socket.create_connection(('127.0.0.1', {port}), 2)"])
    assert "ConnectionRefusedError" in python[0].result or "OSError" in python[0].result
    assert hits == []

    allowed = target.run("shell", "command", commands[-1:], sandbox_network=True)
    assert "reached-the-host" in allowed[0].result and len(hits) == 1


# --- processes and limits -----------------------------------------------------------------------


def _host_processes_with(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def test_no_process_outlives_its_call(target: Target) -> None:
    marker = f"agentkit-{uuid.uuid4().hex}"
    recorded = target.run("shell", "command", [
        f"nohup sh -c 'sleep 1000' {marker}-a >/dev/null 2>&1 & "
        f"setsid sh -c 'sleep 1000' {marker}-b >/dev/null 2>&1 & echo started",
    ])
    assert recorded[0].result == "exit code 0\nstarted\n"
    assert _host_processes_with(marker) == []


def test_other_processes_are_invisible(target: Target) -> None:
    code = ("import os\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
            "    if open(f'/proc/{{p}}/cmdline', 'rb').read() == b'sh\\0-c\\0" + VICTIM
            + "\\0':\n        print('found', p)\nprint(len(os.listdir('/proc')))")
    recorded = target.run("python", "code", [code])
    assert_ran(recorded, 1)
    assert "found" not in recorded[0].result
    host = [p for p in _host_processes_with(VICTIM) if p == str(target.victim)]
    assert host == [str(target.victim)]  # the control: the host sees it


def test_home_folders_are_hidden(target: Target) -> None:
    home = os.path.expanduser("~")
    code = ("import json, os\nprint(json.dumps({d: sorted(os.listdir(d)) if os.path.isdir(d) "
            f"else None for d in [{home!r}, '/root', '/home']}}))")
    recorded = target.run_calls([ToolCall(name="run_python", arguments={"code": code})],
                                tools=[load_tools("python")])
    listed = json.loads(recorded[0].result.splitlines()[1])
    needed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    for folder, names in listed.items():
        # Only the folders leading to the Python installation (pyenv's, say) exist there.
        allowed = {p.relative_to(folder).parts[0] for p in needed if p.is_relative_to(folder)}
        assert set(names or []) <= allowed, (folder, names)
    assert len(os.listdir(home)) > len(listed[home] or [])  # the host's home has more


# --- limits -------------------------------------------------------------------------------------


def test_cpu_time_is_limited(workspace: Path) -> None:
    started = time.monotonic()
    done = sandbox.run(["python3", "-c", "while True: pass"], workspace=workspace, timeout=20,
                       limits=sandbox.Limits(cpu_seconds=1))
    assert not done.timed_out and done.exit_code == 128 + signal.SIGKILL
    assert time.monotonic() - started < 5


def test_memory_files_processes_and_core_dumps_are_limited(workspace: Path) -> None:
    # 8 GiB of address space (never touched); the default limit is 4 GiB.
    big = "import mmap; mmap.mmap(-1, 8 * 2**30)"
    assert "Cannot allocate memory" in sandbox.run(["python3", "-c", big], workspace=workspace,
                                                   timeout=20).stderr
    assert sandbox.run(["python3", "-c", big], workspace=workspace, timeout=20,
                       mode="none").exit_code == 0  # the control: unconfined, it succeeds
    done = sandbox.run(
        ["sh", "-c", "head -c 5000 /dev/zero > big; wc -c < big; cat /proc/self/limits"],
        workspace=workspace, timeout=20, limits=sandbox.Limits(file_bytes=1000),
    )
    assert done.stdout.startswith("1000\n") and "File size limit exceeded" in done.stderr
    limits = {" ".join(line.split()[:-3]): line.split()[-3] for line in
              done.stdout.splitlines()[2:] if len(line.split()) >= 4}
    assert limits["Max processes"] == "1024" and limits["Max open files"] == "1024"
    assert limits["Max core file size"] == "0" and limits["Max cpu time"] == "60"


def test_the_default_limits_and_no_privileges(workspace: Path) -> None:
    done = sandbox.run(["sh", "-c", "cat /proc/self/limits /proc/self/status"],
                       workspace=workspace, timeout=20)
    lines = done.stdout.splitlines()
    limits = {" ".join(line.split()[:-3]): line.split()[-3] for line in lines
              if line.startswith("Max ")}
    assert (limits["Max cpu time"], limits["Max address space"], limits["Max file size"]) == (
        "60", str(4 * 2**30), str(2**30))
    assert (limits["Max processes"], limits["Max open files"]) == ("1024", "1024")
    status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    assert status["CapEff"] == status["CapPrm"] == "0000000000000000"
    assert status["NoNewPrivs"] == "1"
    assert sandbox.Limits().output_bytes == 2**20  # 512 KiB of head and of tail per stream


def test_output_is_capped_and_the_timeout_kills_the_sandbox(workspace: Path) -> None:
    done = sandbox.run(["sh", "-c", "yes | head -c 5000000"], workspace=workspace, timeout=20,
                       limits=sandbox.Limits(output_bytes=1000))
    assert "[... 4999000 bytes of output cut ...]" in done.stdout and len(done.stdout) < 1100
    started = time.monotonic()
    slow = sandbox.run(["sh", "-c", "sleep 30"], workspace=workspace, timeout=0.5)
    assert slow.timed_out and time.monotonic() - started < 3


def test_python_output_that_is_not_utf8_is_kept(target: Target) -> None:
    recorded = target.run("python", "code", [
        "import sys; print('before'); sys.stdout.flush(); "
        "sys.stdout.buffer.write(b'\\xff\\xfe after')"])
    assert recorded[0].result == "exit code 0\nbefore\n\ufffd\ufffd after"


def test_the_control_without_the_sandbox_the_same_attempts_succeed(target: Target) -> None:
    """What the tests above would see if the sandbox were gone (`sandbox="none"`)."""
    recorded = target.run("shell", "command", [
        "cat {secret}", "tr '\\0' '\\n' < /proc/{pid}/environ", "echo x > {outside}/new.txt",
        "printenv OPENAI_API_KEY",
    ], sandbox="none")
    assert_ran(recorded, 4)
    assert target.secret in recorded[0].result and target.key in recorded[1].result
    assert (target.outside / "new.txt").exists()
    assert target.key not in recorded[3].result  # the environment is scrubbed even so

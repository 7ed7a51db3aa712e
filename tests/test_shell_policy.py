"""The shell pack's allow and deny lists parse the command (policy; the sandbox is the boundary)."""

from __future__ import annotations

import pytest

from agentkit.command_policy import check_command, programs
from agentkit.errors import ToolRetry

DENY = ("sudo", "mkfs", "rm")


def refused(command: str, allow: tuple[str, ...] | None = None,
            deny: tuple[str, ...] = DENY) -> str | None:
    """The refusal `command` gets, or None when the lists let it run."""
    try:
        check_command(command, allow, deny)
    except ToolRetry as e:
        return e.message
    return None


@pytest.mark.parametrize("command", [
    "sh -c 'sudo reboot'",
    "bash -c \"rm -rf x\"",
    "bash -lc 'rm x'",
    "dash -e -c 'rm x'",
    "env sudo id",
    "env -i PATH=/usr/bin rm x",
    "env -S 'rm x'",
    "echo x | xargs rm",
    "xargs -I{} -n 1 rm {}",
    "timeout 5 rm x",
    "timeout -s KILL 5 rm x",
    "nohup rm x &",
    "nice -n 5 rm x",
    "find . -name '*.tmp' -exec rm {} \\;",
    "find . -execdir sh -c 'rm x' \\;",
    "busybox rm x",
    "command rm x",
    "exec rm x",
    "/usr/bin/rm x",
    "FOO=1 rm x",
    "mkfs.ext4 /dev/sda1",
    "echo $(rm x)",
    "echo \"$(rm x)\"",
    "echo `rm x`",
    "diff <(rm x) y",
    "(cd /tmp; rm x)",
    "if true; then rm x; fi",
    "true && rm x || false",
    "echo ok 2>&1 | rm x",
    "cat <<EOF\n$(rm x)\nEOF",
    "echo \"<<X\"\nrm x\nX",  # not a here-document: the quotes hide the <<
])
def test_wrapped_and_hidden_programs_are_found(command: str) -> None:
    message = refused(command)
    assert message is not None and "is not allowed here (deny list:" in message, command


def test_a_program_name_from_an_expansion_is_refused() -> None:
    for command in ("$X rm", "X=rm; $X file", "$(echo rm) x", "\"$(which rm)\" x"):
        message = refused(command)
        assert message is not None and "comes from an expansion" in message, command


@pytest.mark.parametrize("command", [
    "echo hi # a comment\nrm x",  # the newline after a comment still ends the command
    "echo a#b; rm x",  # '#' inside a word starts no comment
    "ls;#c\nrm x",
    "echo \"it's\" # don't\nrm x",
])
def test_comments_do_not_hide_the_next_command(command: str) -> None:
    assert refused(command, allow=("echo", "ls"), deny=()) == (
        "'rm' is not allowed here; allowed programs: echo, ls"
    )


@pytest.mark.parametrize("command", [
    "python3 x.py > out.txt 2>&1",
    "2>/dev/null python3 x.py",
    "ls -l | grep x && echo done",
    "cat > f.py <<'EOF'\nimport os\nrm -rf /\nEOF\npython3 f.py",
    "cat <<-EOF > notes.txt\n\tsudo is only a word here\n\tEOF",
    "echo '#'; echo \"a # b\"",
    "for f in *.py; do python3 $f; done",
    "timeout 5 python3 x.py",
])
def test_ordinary_commands_pass_an_allow_list(command: str) -> None:
    allow = ("python3", "ls", "grep", "echo", "cat", "timeout")
    assert refused(command, allow=allow) is None, command


def test_names_match_exactly_or_by_dotted_suffix() -> None:
    assert refused("mkfs.ext4 /dev/x") is not None
    assert refused("mkfsx /dev/x") is None
    assert refused("python3.11 -V", allow=("python3",)) is None
    assert refused("python -V", allow=("python3",)) is not None


def test_what_is_found() -> None:
    assert programs("A=1 git status | grep x && (cd y; make) || ls -l") == [
        "git", "grep", "cd", "make", "ls"]
    assert programs("sh -c 'timeout 5 env X=1 xargs rm'") == [
        "sh", "timeout", "env", "xargs", "rm"]
    assert programs("find . -exec a {} \\; -exec b {} \\;") == ["find", "a", "b"]
    assert programs("sh script.sh") == ["sh"]  # a script's programs cannot be known

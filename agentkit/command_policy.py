"""Which programs a shell command line runs, for the shell pack's allow and deny lists.

The command is parsed with `shlex` (POSIX mode, `punctuation_chars`): separators (`;`, `&`, `|`,
`&&`, `||`, newlines, parentheses) start a new simple command, redirections and their targets
are skipped, a `#` starts a comment only at the start of a word (as in sh) and the comment ends
at its newline. Then each simple command's program is found past variable assignments and
keywords (`if`, `then`, `!`, ...), and the programs it wraps are found too: `sh -c '...'`,
`bash -c`, `env`, `xargs`, `timeout`, `nohup`, `nice`, `busybox`, `find -exec` and others in
`WRAPPERS`; so are the commands inside `$(...)`, backticks and `<(...)`. A program name that
comes from an expansion (`$X`, `$(...)`) cannot be checked and is refused.

This is policy against a model's mistakes, not a security boundary: a program that is allowed
can still start any other (a script, `python -c`, a program read from a file). The sandbox
(`agentkit.sandbox`) is the boundary.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator
from typing import cast

from agentkit.errors import ToolRetry

_PUNCTUATION = ";&|()<>\n"
_LITERAL_HASH = "\ue000"  # stands for a '#' inside a word, which sh does not read as a comment
_WORD_HASH = re.compile(r"(?<=[^\s;&|()<>])#")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=.*", re.S)
_BACKTICKS = re.compile(r"`([^`]*)`")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)[ \t]*(['\"]?)\\?([^\s;&|()<>'\"]+)\2")
KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!",
                      "{", "}", "time", "esac", "coproc"})
# After these, the rest of the simple command names no program (`for x in a b`, `case x in`).
_NO_PROGRAM = frozenset({"for", "select", "case", "function", "[[", "]]"})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish"})
_SHELL_VALUE_OPTIONS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
# Programs that run a program named among their arguments: (options that take a value, how many
# positional words come before the program).
WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "xargs": (frozenset({"-a", "--arg-file", "-d", "--delimiter", "-E", "--eof", "-I",
                         "--replace", "-L", "--max-lines", "-n", "--max-args", "-P",
                         "--max-procs", "-s", "--max-chars", "--process-slot-var"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "nohup": (frozenset(), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "--class", "-n", "--classdata", "-p", "--pid", "-P", "--pgid",
                          "-u", "--uid"}), 0),
    "stdbuf": (frozenset({"-i", "--input", "-o", "--output", "-e", "--error"}), 0),
    "setsid": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "busybox": (frozenset(), 0),
    "chrt": (frozenset(), 1),
    "taskset": (frozenset(), 1),
    "sudo": (frozenset({"-u", "--user", "-g", "--group", "-C", "-D", "-h", "-p", "-r", "-t",
                        "-U"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
}
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def programs(command: str) -> list[str]:
    """The program names a command line runs: each simple command's, and those it wraps."""
    text, expanding = _without_heredocs(command)
    found: list[str] = []
    for words in _simple_commands(text, command):
        found += _command_programs(words)
        for word in words:  # "$(...)" inside quotes stays in one word
            found += [p for start in _find_all(word, "$(") for p in programs(word[start + 2:])]
    for inner in _BACKTICKS.findall(text) + expanding:
        found += programs(inner)
    return found


def check_command(command: str, allow: Iterable[str] | None, deny: Iterable[str]) -> None:
    """Raise `ToolRetry` naming the program if `command` runs one the lists refuse.

    A name matches a list entry when it is the entry or starts with the entry and a dot
    (`mkfs` matches `mkfs.ext4`, `python3` matches `python3.11`).
    """
    refused = set(deny)
    allowed = None if allow is None else set(allow)
    if allowed is not None and re.search(r"\$\(|`|<\(|>\(", command):
        raise ToolRetry(
            "command substitution ($(...), `...`, <(...)) is not allowed with an allow list"
        )
    for program in programs(command):
        if _matches(program, refused):
            raise ToolRetry(
                f"{program!r} is not allowed here (deny list: {', '.join(sorted(refused))})"
            )
        if allowed is not None and not _matches(program, allowed):
            raise ToolRetry(
                f"{program!r} is not allowed here; allowed programs: {', '.join(sorted(allowed))}"
            )


def _matches(program: str, names: set[str]) -> bool:
    return program in names or any(program.startswith(name + ".") for name in names)


def _find_all(text: str, needle: str) -> Iterator[int]:
    start = text.find(needle)
    while start >= 0:
        yield start
        start = text.find(needle, start + 1)


class _Source:
    """Text for shlex in which a comment stops before its newline, which then ends the command.

    shlex's own reader swallows that newline, so `# x` and a newline used to hide the next line.
    """

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def read(self, size: int = 1) -> str:
        chunk = self.text[self.at:self.at + size]
        self.at += len(chunk)
        return chunk

    def readline(self) -> str:
        end = self.text.find("\n", self.at)
        end = len(self.text) if end < 0 else end
        line, self.at = self.text[self.at:end], end
        return line


def _tokens(text: str, original: str) -> list[str]:
    lexer = shlex.shlex(cast(str, _Source(_WORD_HASH.sub(_LITERAL_HASH, text))), posix=True,
                        punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"  # a newline is a separator, not a space
    lexer.whitespace_split = True
    try:
        return [token.replace(_LITERAL_HASH, "#") for token in lexer]
    except ValueError as e:
        raise ToolRetry(f"command {original!r} does not parse: {e}") from e


def _simple_commands(text: str, original: str) -> list[list[str]]:
    """The words of each simple command, without redirections (`2>&1`, `> out.txt`)."""
    commands: list[list[str]] = [[]]
    skip_target = False
    for token in _tokens(text, original):
        if skip_target:
            skip_target = False
        elif token and all(c in _PUNCTUATION for c in token):
            if ("<" in token or ">" in token) and not token.endswith("("):
                skip_target = True  # the redirection's target follows
                if commands[-1] and commands[-1][-1].isdigit():
                    commands[-1].pop()  # the descriptor of `2>`
            else:
                commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def _command_programs(words: list[str]) -> list[str]:
    """The programs one simple command runs: its own and those it wraps."""
    at = 0
    while at < len(words) and (_ASSIGNMENT.fullmatch(words[at]) or words[at] in KEYWORDS):
        at += 1
    if at == len(words) or words[at] in _NO_PROGRAM:
        return []
    word = words[at]
    if word.startswith("-"):  # the rest of `find ... -exec a {} \; -exec b {} \;`
        return _find_programs(words[at:])
    if "$" in word or "`" in word:
        shown = "$(...)" if word == "$" else word
        raise ToolRetry(
            f"the program name {shown!r} comes from an expansion, which the allow and deny lists "
            "cannot check; write the program's name"
        )
    program, rest = os.path.basename(word), words[at + 1:]
    if program in SHELLS:
        return [program, *_shell_programs(rest)]
    if program == "find":
        return [program, *_find_programs(rest)]
    if program in WRAPPERS:
        return [program, *_wrapped_programs(program, rest)]
    return [program]


def _shell_programs(args: list[str]) -> list[str]:
    """The programs of `sh -c 'command'` (also `-ec`, `-lc`); nothing for `sh script`."""
    at, command_flag = 0, False
    while at < len(args) and args[at][:1] in ("-", "+") and args[at] != "--":
        option = args[at]
        command_flag |= not option.startswith("--") and "c" in option[1:]
        at += 2 if option in _SHELL_VALUE_OPTIONS else 1
    at += at < len(args) and args[at] == "--"
    return programs(args[at]) if command_flag and at < len(args) else []


def _find_programs(args: list[str]) -> list[str]:
    found: list[str] = []
    for at, word in enumerate(args):
        if word in _FIND_EXEC:
            found += _command_programs(args[at + 1:])
    return found


def _wrapped_programs(wrapper: str, args: list[str]) -> list[str]:
    """The program `env`, `xargs`, `timeout`, ... run, past their options and positionals."""
    value_options, positionals = WRAPPERS[wrapper]
    at = 0
    while at < len(args):
        word = args[at]
        if word == "--":
            at += 1
            break
        if wrapper == "env" and word in ("-S", "--split-string") and at + 1 < len(args):
            return programs(args[at + 1])
        if wrapper == "env" and word.startswith("--split-string="):
            return programs(word.split("=", 1)[1])
        if not word.startswith("-") or word == "-":
            break
        at += 2 if word in value_options else 1
    rest = args[at:]
    if wrapper == "env":
        while rest and _ASSIGNMENT.fullmatch(rest[0]):
            rest = rest[1:]
    return _command_programs(rest[positionals:])


def _without_heredocs(command: str) -> tuple[str, list[str]]:
    """`command` without its here-document bodies (data, not commands), and the bodies whose
    `$(...)` and backticks run (those with an unquoted delimiter)."""
    text, expanding, at = command, [], 0
    while (match := _HEREDOC.search(text, at)) is not None:
        at = match.end()
        if _quoted_at(text, match.start()):
            continue
        line_end = text.find("\n", at)
        if line_end < 0:
            break
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        found = _body_end(text, line_end + 1, delimiter, strip_tabs)
        if found is None:
            continue  # no closing line: keep it all as commands (the strict reading)
        body_end, after = found
        body = text[line_end + 1:body_end]
        if not match.group(2) and "\\" not in match.group(0):
            expanding += [body[start + 2:] for start in _find_all(body, "$(")]
            expanding += _BACKTICKS.findall(body)
        text = text[:line_end + 1] + text[after:]
    return text, expanding


def _body_end(
    text: str, start: int, delimiter: str, strip_tabs: bool
) -> tuple[int, int] | None:
    """Where the here-document body that starts at `start` ends, and where its closing line
    ends; None when no line closes it."""
    at = start
    while at <= len(text):
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        line = text[at:end]
        if (line.lstrip("\t") if strip_tabs else line) == delimiter:
            return at, min(end + 1, len(text))
        at = end + 1
    return None


def _quoted_at(text: str, position: int) -> bool:
    """Whether `position` is inside quotes or a comment (a `<<` there starts no here-document)."""
    quote: str | None = None
    at = 0
    while at < position:
        char = text[at]
        if quote is None and char == "\\":
            at += 2
            continue
        if quote is None and char == "#" and (at == 0 or text[at - 1] in " \t\n;&|()<>"):
            newline = text.find("\n", at)
            if newline < 0 or newline > position:
                return True
            at = newline
        elif quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
        elif quote == '"' and char == "\\":
            at += 1
        at += 1
    return quote is not None

"""Every example in README.md and docs/*.md runs, against the real CLI and library, and prints what the
docs show (issue 19), so the docs cannot drift from the code again.

The convention (also in README.md, "Examples in these docs are tested"):

- Every fenced block has a language. ``console`` / ``sh`` / ``bash`` / ``shell`` and ``python`` blocks
  run; ``fdsl`` blocks are parsed as the text form; any other language (``json``, ``yaml``, ``text``, ...)
  is shown only.
- A shell block with ``$ `` prompts is a transcript: each ``$ command`` (a trailing ``\\`` continues it on
  the next line) runs in one ``bash`` from the repository root, and the lines up to the next prompt are
  its stdout and stderr together, compared exactly (``echo $?`` shows the previous command's exit
  status). A shell block without prompts is a list of commands, each of which must exit 0.
- A python block runs with the repository root as the current directory; when it holds ``>>>`` lines it
  is a doctest and every output is compared, otherwise it must run without raising.
- An HTML comment on the line just above a block changes that:
  ``<!-- docs-test: skip REASON -->`` (not run: installs, starts a server, takes minutes) or
  ``<!-- docs-test: no-compare REASON -->`` (run, every command must succeed, output not compared: SQL
  text, which changes with the SQL backend). The reason is required.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"console", "sh", "bash", "shell"}
RUNNABLE = SHELL | {"python", "fdsl"}
_FENCE = re.compile(r"^(\s*)```(.*)$")
_MARK = re.compile(r"^<!--\s*docs-test:\s*(skip|no-compare)\s+(\S.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    body: str
    mark: str | None  # skip / no-compare / None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).strip()
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        above = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        mark = _MARK.match(above)
        out.append(Block(path, start + 1, lang, "\n".join(body) + "\n", mark.group(1) if mark else None))
    return out


ALL = [b for p in DOCS for b in blocks(p)]
RUN = [b for b in ALL if b.lang in RUNNABLE and b.mark != "skip"]


def test_the_docs_hold_runnable_examples() -> None:
    assert len(ALL) > 15 and len(RUN) >= 8


@pytest.mark.parametrize("block", ALL, ids=lambda b: b.id)
def test_every_block_is_labelled(block: Block) -> None:
    """An unlabelled block would escape this test: say what it is (``text`` when it is only shown)."""
    assert block.lang, f"{block.id}: give the block a language (console, python, fdsl, text, json, ...)"
    if block.lang not in RUNNABLE:
        assert block.mark is None, f"{block.id}: a docs-test marker on a block that never runs"
        assert not block.body.startswith("$ "), (
            f"{block.id}: a transcript labelled {block.lang!r}; use console"
        )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update({"COLUMNS": "100", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    return env


def _transcript(body: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a ``$`` transcript."""
    pairs: list[tuple[str, list[str]]] = []
    cont = False
    for line in body.rstrip("\n").split("\n"):
        if cont:
            pairs[-1] = (pairs[-1][0] + "\n" + line, pairs[-1][1])
            cont = line.endswith("\\")
        elif line.startswith("$ "):
            pairs.append((line[2:], []))
            cont = line.endswith("\\")
        else:
            assert pairs, f"output before the first $ command: {line!r}"
            pairs[-1][1].append(line)
    return [(cmd, "\n".join(out)) for cmd, out in pairs]


_END = "@@docs-test-end {rc}@@"


def _run_shell(commands: list[str]) -> list[tuple[str, int]]:
    """Run the commands in one bash from the repository root; each one's output and exit status."""
    script = ["exec 2>&1"]
    for cmd in commands:
        script += [cmd, '__rc=$?; printf "\\n' + _END.format(rc="%s") + '\\n" "$__rc"; (exit $__rc)']
    proc = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300
    )
    parts = re.split(r"\n@@docs-test-end (\d+)@@\n", proc.stdout)
    results = [(parts[i].strip("\n"), int(parts[i + 1])) for i in range(0, len(parts) - 1, 2)]
    assert len(results) == len(commands), proc.stdout + proc.stderr
    return results


@pytest.mark.parametrize("block", [b for b in RUN if b.lang in SHELL], ids=lambda b: b.id)
def test_shell_examples(block: Block) -> None:
    if block.body.startswith("$ "):
        pairs = _transcript(block.body)
        results = _run_shell([cmd for cmd, _ in pairs])
        for (cmd, expected), (got, rc) in zip(pairs, results):
            if block.mark == "no-compare":
                assert rc == 0, f"{block.id}: `{cmd}` exited {rc}:\n{got}"
            else:
                assert got == expected, f"{block.id}: `{cmd}` printed\n{got}\n--- the docs show\n{expected}"
    else:
        commands = [
            c for c in block.body.replace("\\\n", " ").splitlines() if c.strip() and not c.startswith("#")
        ]
        for cmd, (got, rc) in zip(commands, _run_shell(commands)):
            assert rc == 0, f"{block.id}: `{cmd}` exited {rc}:\n{got}"


@pytest.mark.parametrize("block", [b for b in RUN if b.lang == "python"], ids=lambda b: b.id)
def test_python_examples(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    if ">>> " in block.body:
        test = doctest.DocTestParser().get_doctest(block.body, {}, block.id, str(block.path), block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS if block.mark is None else 0)
        if block.mark == "no-compare":
            for ex in test.examples:
                ex.want = ""
                exec(compile(ex.source, block.id, "exec"), test.globs)  # noqa: S102 - the docs' own code
            return
        failures = []

        def out(text: str) -> None:
            failures.append(text)

        result = runner.run(test, out=out, clear_globs=True)
        assert result.failed == 0, "".join(failures)
    else:
        exec(compile(block.body, block.id, "exec"), {"__name__": "docs_example"})  # noqa: S102


@pytest.mark.parametrize("block", [b for b in RUN if b.lang == "fdsl"], ids=lambda b: b.id)
def test_text_form_examples_parse(block: Block) -> None:
    from filterdsl import parse

    parse(block.body, "text")

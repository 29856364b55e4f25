"""Tests own their data: the settings inside a test never point at the user's `data/`, the
user's environment or `.env`, and the guard that watches `data/` can fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from config import get_settings
from config.settings import REPO_ROOT, Settings, default_database_url
from tests.conftest import (
    REPO_DATA,
    SESSION_HOME,
    check_data_unchanged,
    data_settings,
    data_snapshot,
    snapshot_changes,
)

EXAMPLE = REPO_DATA / "examples" / "portfolio.csv"


def _under(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def test_default_database_url_inside_a_test_is_not_the_users(own_data) -> None:
    """DATABASE_URL (no test sets it) is a SQLite file in this test's own folder, not
    data/budget.db, and DATA_DIR is that folder's data/, not the repository's."""
    settings = get_settings()
    assert settings.database_url != default_database_url()
    assert str(REPO_DATA) not in settings.database_url
    assert settings.database_url == f"sqlite:///{own_data / 'data' / 'budget.db'}"
    assert settings.data_dir == own_data / "data" and not _under(settings.data_dir, REPO_DATA)


def test_every_data_setting_default_is_moved_out_of_the_repository(tmp_path) -> None:
    """Each setting whose default lies under the repository's data/ is given a value under the
    test's home; the bundled examples stay where they are."""
    values = data_settings(tmp_path)
    env_settings = Settings(_env_file=None, **{k.lower(): v for k, v in values.items()})
    for name, value in env_settings.model_dump().items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Path) and not _under(item, REPO_DATA / "examples"):
                assert not _under(item, REPO_DATA), (name, item)
            if isinstance(item, str):
                assert str(REPO_DATA) not in item, (name, item)
    folders = get_settings().input_folders() if hasattr(get_settings(), "input_folders") else []
    assert all(_under(f, REPO_DATA / "examples") or not _under(f, REPO_DATA) for f in folders)


def test_tests_ignore_the_users_environment_and_dotenv(monkeypatch, own_data) -> None:
    """`.env` is not read in tests, and each test gets a different folder than the session's."""
    assert Settings.model_config["env_file"] is None
    assert not _under(own_data, SESSION_HOME) and own_data != SESSION_HOME
    prefect_home = Path(os.environ["PREFECT_HOME"])
    assert _under(prefect_home, SESSION_HOME)
    assert prefect_home != Path.home() / ".prefect"


def test_cli_commands_write_only_into_the_tests_folder(capsys, own_data) -> None:
    """`budget db upgrade`, `budget solve` (with its registry look-up) and `budget profile`
    with no paths given create their files under the test's folder, and nothing under the
    repository's data/ changes."""
    before = data_snapshot(REPO_DATA)
    assert main(["db", "upgrade"]) == 0
    assert main(["solve", str(EXAMPLE), "--budget", "1500000"]) == 0
    out = capsys.readouterr().out
    assert "forecast: none (no runtime model registered" in out
    assert main(["profile", "--algorithm", "greedy", "--n", "20", "--repeat", "1"]) == 0
    assert (own_data / "data" / "budget.db").is_file()
    assert list((own_data / "data").glob("**/profile-greedy-*.prof"))
    assert snapshot_changes(before, data_snapshot(REPO_DATA)) == []


def test_the_data_guard_sees_a_new_a_changed_and_a_removed_file(tmp_path) -> None:
    """`data_snapshot` differs after a file is created, rewritten (same size) or removed, so
    the end-of-session check on the repository's data/ can fail."""
    (tmp_path / "a.db").write_bytes(b"1234")
    first = data_snapshot(tmp_path)
    assert snapshot_changes(first, data_snapshot(tmp_path)) == []
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "new.jsonl").write_text("x")
    second = data_snapshot(tmp_path)
    assert str(tmp_path / "sub" / "new.jsonl") in snapshot_changes(first, second)
    os.utime(tmp_path / "a.db", ns=(0, 10**9))
    third = data_snapshot(tmp_path)
    assert snapshot_changes(second, third) == [str(tmp_path / "a.db")]
    (tmp_path / "sub" / "new.jsonl").unlink()
    assert str(tmp_path / "sub" / "new.jsonl") in snapshot_changes(third,
                                                                    data_snapshot(tmp_path))


class _Session:
    """What `check_data_unchanged` uses of a pytest session."""

    class config:
        class pluginmanager:
            @staticmethod
            def get_plugin(name: str) -> None:
                return None

    exitstatus = 0


def test_the_end_of_session_check_fails_the_run_when_data_changed(tmp_path, capsys) -> None:
    """The end-of-session check leaves an untouched folder's run alone, and marks the run
    failed, naming the file, once a file appears there."""
    before = data_snapshot(tmp_path)
    quiet = _Session()
    check_data_unchanged(quiet, tmp_path, before)
    assert quiet.exitstatus == 0
    (tmp_path / "budget.db-wal").write_bytes(b"x")
    touched = _Session()
    check_data_unchanged(touched, tmp_path, before)
    assert touched.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert "budget.db-wal" in capsys.readouterr().out


PROBE = '''
import os
from config import get_settings
from tests.conftest import REPO_DATA


def test_probe():
    """The settings are the tests' own."""
    s = get_settings()
    assert str(REPO_DATA) not in s.database_url, s.database_url
    assert not s.data_dir.resolve().is_relative_to(REPO_DATA), s.data_dir
    assert s.max_projects == 2_000_000
    assert "PREFECT_API_URL" not in os.environ
    assert "/nonexistent-user-inputs" not in str(getattr(s, "input_dirs", ""))
'''


def test_a_session_ignores_the_users_environment(tmp_path) -> None:
    """A pytest session started with the user's DATABASE_URL, DATA_DIR, INPUT_DIRS and
    MAX_PROJECTS in its environment (and PREFECT_API_URL) runs its tests on the defaults and its
    own folders: the conftest drops them before any project import."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    user = {"DATABASE_URL": default_database_url(), "DATA_DIR": str(REPO_DATA),
            "database_url": default_database_url(), "MAX_PROJECTS": "3",
            "INPUT_DIRS": "/nonexistent-user-inputs", "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(tmp_path), str(probe)],
        cwd=REPO_ROOT, env={**os.environ, **user}, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout

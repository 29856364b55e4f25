"""The built wheel, installed in a fresh venv outside the checkout, runs from any working
directory: its data folder is that directory's `./data`, the bundled example ships inside the
package, and nothing is written into site-packages.

One venv for the whole module (built once: about a minute from pip's local indexes): first the
base install (`pip install budget-allocation`), then the [pipeline,ml] extras on top, always with
`requirements/lock.txt` as constraints, so the versions are the tested ones.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import venv
from contextlib import closing
from pathlib import Path

import pytest

from config.extras import EXTRAS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
PACKAGES = ("solvers", "cli", "config", "db", "migrations", "tasks", "flows", "ml", "api")
BUDGET = "1500000"
# Setting names (upper case) the tests' conftest exports: the installed CLI must see the defaults.
_DROP = ("DATABASE_URL", "DATA_DIR", "INPUT_DIRS", "PYTHONPATH", "PREFECT_API_URL", "VIRTUAL_ENV")


class Installed:
    """A venv holding the wheel: run its python or `budget` in a working directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.venv = home / "venv"
        self.bin = self.venv / "bin"
        self.wheel: Path | None = None

    @property
    def site_packages(self) -> Path:
        return next((self.venv / "lib").glob("python3*/site-packages"))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.upper() not in _DROP}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a .pyc would be a write into site-packages
        env["PREFECT_HOME"] = str(self.home / "prefect-home")
        return env

    def pip_install(self, spec: str) -> None:
        run([str(self.bin / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "-c", str(LOCK), spec], cwd=self.home, env=self.env(), timeout=900)

    def budget(self, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / "budget"), *args], cwd=cwd, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def python(self, cwd: Path, code: str) -> str:
        return run([str(self.bin / "python"), "-c", code], cwd=cwd, env=self.env()).stdout


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd[:4]}… exited {out.returncode}\n{out.stdout[-3000:]}\n" \
                                f"{out.stderr[-3000:]}"
    return out


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and mtime (bytecode caches left out)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            out[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
    return out


def changed(before: dict, after: dict) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from a copy of the sources, installed (base only) in a fresh venv."""
    home = tmp_path_factory.mktemp("wheel-install")
    assert not home.resolve().is_relative_to(ROOT), "the venv must live outside the checkout"
    src = home / "src"  # build from a copy: the build writes build/ and egg-info next to it
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    # The lock pins setuptools (scripts/dev.py installs it), so no isolated build env is needed.
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(home / "dist"), str(src)], cwd=home)
    box = Installed(home)
    box.wheel = next((home / "dist").glob("budget_allocation-*.whl"))
    venv.EnvBuilder(with_pip=True).create(box.venv)
    box.pip_install(str(box.wheel))
    return box


def test_the_base_install_is_light_and_solves_the_packaged_example(installed, tmp_path):
    """`pip install budget-allocation` brings NumPy and pydantic, not Prefect, SQLAlchemy,
    FastAPI, LightGBM, matplotlib or pandas; `import solvers` loads no pydantic; `budget solve`
    solves the example shipped inside the package, from a working directory outside the
    checkout, and writes nothing into site-packages."""
    frozen = installed.python(tmp_path, "import importlib.metadata as m; "
                              "print('\\n'.join(d.metadata['Name'].lower() "
                              "for d in m.distributions()))").split()
    heavy = {"prefect", "sqlalchemy", "alembic", "fastapi", "lightgbm", "matplotlib", "pandas",
             "pyarrow", "distributed", "scikit-learn", "uvicorn"}
    assert not heavy & set(frozen), sorted(heavy & set(frozen))
    probe = ("import sys, solvers; r = solvers.solve([3, 5, 7], 10); "
             "print(r['total_cost'], sorted({m.split('.')[0] for m in sys.modules} & "
             "{'pydantic', 'sqlalchemy', 'prefect', 'pandas', 'config'}))")
    assert installed.python(tmp_path, probe).split() == ["10", "[]"]
    example = Path(installed.python(tmp_path, "import config; print(config.EXAMPLE_PORTFOLIO)")
                   .strip())
    assert example.is_file() and example.is_relative_to(installed.site_packages)
    before = tree(installed.site_packages)
    out = installed.budget(tmp_path, "solve", str(example), "--budget", BUDGET, "--json",
                           "--no-forecast")
    assert out.returncode == 0, out.stderr[-2000:]
    assert '"status": "exact"' in out.stdout and '"selected_projects"' in out.stdout
    assert changed(before, tree(installed.site_packages)) == []


def test_the_base_install_names_the_missing_extra_in_one_line(installed, tmp_path):
    """Without the extras, `budget solve` still answers (the forecast says which extra it
    needs), and a pipeline command is one error line naming `[pipeline]`, exit 2, under
    `--json` one JSON object: never a traceback."""
    example = installed.python(tmp_path, "import config; print(config.EXAMPLE_PORTFOLIO)").strip()
    out = installed.budget(tmp_path, "solve", example, "--budget", BUDGET, "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "[pipeline" in out.stdout or "[ml]" in out.stdout  # the forecast note
    assert "Traceback" not in out.stderr
    for args in (("generate", "--sizes", "10"), ("db", "current"), ("export", "--json")):
        out = installed.budget(tmp_path, *args)
        assert out.returncode == 2, (args, out.stdout[-1000:], out.stderr[-1000:])
        assert "Traceback" not in out.stderr and "[pipeline]" in (out.stderr + out.stdout), args
    assert '"error"' in out.stdout  # --json: one object on stdout


def test_the_settings_of_an_installed_package_point_at_the_working_directory(installed,
                                                                             tmp_path):
    """After a wheel install DATA_DIR, the SQLite default and `.env` are the working directory's
    (`./data`, `./data/budget.db`, `./.env`), never site-packages'."""
    (tmp_path / ".env").write_text("MAX_PROJECTS=1234\n")
    code = ("from config import get_settings; s = get_settings(); "
            "print(s.data_dir); print(s.database_url); print(s.max_projects); "
            "print(s.input_folders()[-1])")
    data_dir, url, cap, examples = installed.python(tmp_path, code).splitlines()
    assert Path(data_dir) == tmp_path / "data"
    assert url == f"sqlite:///{tmp_path / 'data' / 'budget.db'}"
    assert cap == "1234"
    assert Path(examples).is_relative_to(installed.site_packages)  # read-only package data


def test_the_pipeline_extras_run_the_demo_from_the_working_directory(installed, tmp_path):
    """With [pipeline,ml] added (from the lock), `budget demo` runs end to end from a directory
    outside the checkout: the database, exports and models land under `./data` there, the solve
    step reads the example shipped in the package, and site-packages is left as installed."""
    assert {"pipeline", "ml"} <= EXTRAS.keys()
    installed.pip_install(f"{installed.wheel}[pipeline,ml]")
    before = tree(installed.site_packages)
    small = ["--sizes", "10,30", "--per-size", "1", "--families", "uniform,portfolio",
             "--no-memory"]  # the benchmark part small; training its fixed ~40 s
    out = installed.budget(tmp_path, "demo", "--json", *small, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    data = tmp_path / "data"
    assert (data / "budget.db").is_file()
    assert any((data / "exports").rglob("*.parquet")), sorted(map(str, data.rglob("*")))[:20]
    with closing(sqlite3.connect(data / "budget.db")) as db:
        names = [row[0] for row in db.execute("SELECT name FROM project_sets")]
    assert [n for n in names if n.startswith(("example:", "file:"))] == ["example:portfolio"], \
        names  # the solve step's default source: the example shipped inside the package
    assert changed(before, tree(installed.site_packages)) == []
    written = {p.name for p in installed.site_packages.iterdir()}
    assert not {"data", ".env", "budget.db"} & written

"""The product installs from a wheel and runs from any folder, as a city's administrator would
install it: build the wheel, install it into a fresh virtual environment, and in an empty folder
load the demo and list the cases. Only the ``hotline`` package is installed."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_DIR

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path, timeout: float = 600) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtual environment with the wheel installed."""
    work = tmp_path_factory.mktemp("wheel")
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "--wheel-dir",
        work / "dist",
        PROJECT_DIR,
        cwd=work,
    )
    [wheel] = (work / "dist").glob("hotline-*.whl")
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, cwd=work)
    return bin_dir


def test_only_the_hotline_package_is_installed(installed):
    site = Path(
        run(
            installed / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=installed
        ).strip()
    )
    record = next(site.glob("hotline-*.dist-info")) / "RECORD"
    top_level = {line.split("/", 1)[0] for line in record.read_text().splitlines() if "/" in line}
    assert {name for name in top_level if not name.endswith(".dist-info") and name != ".."} == {"hotline"}
    for room in ("domain", "web", "infra", "intake", "projections", "bench", "tests"):
        assert not (site / room).exists()
    assert (site / "hotline" / "rules" / "routing.csv").is_file()
    assert not (site / "hotline" / "rules").is_symlink() and (site / "hotline" / "domain" / "case.py").is_file()


def test_demo_and_cases_run_in_an_empty_folder(installed, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    out = run(installed / "hotline", "demo", "--cases", "40", cwd=folder)
    assert "已载入 40 件演示工单" in out
    assert (folder / "var" / "hotline.sqlite3").is_file()  # the store is under ./var of the working folder
    rows = [json.loads(line) for line in run(installed / "hotline", "cases", "--json", cwd=folder).splitlines()]
    planted = [row for row in rows if row["call_id"].startswith(("demo-water-main-", "demo-bikes-"))]
    assert len(planted) == 8 + 12  # the demo's 集中诉求 and rising topic (infra/demo/hotspots.py)
    assert len(rows) == 40 + 20 and len({row["ticket_no"] for row in rows}) == 60
    run(installed / "hotline", "rules", "init", "city-rules", cwd=folder)
    assert (folder / "city-rules" / "time_limits.csv").is_file()

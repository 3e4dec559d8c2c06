"""domain/ stays plain Python: no web framework, broker, database driver or infrastructure."""

import ast
from pathlib import Path

FORBIDDEN = {
    "flask",
    "flask_login",
    "flask_wtf",
    "wtforms",
    "kafka",
    "psycopg",
    "psycopg2",
    "sqlite3",
    "infra",
    "web",
    "intake",
    "projections",
    "chinese_calendar",
    "openpyxl",
}
DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_no_infrastructure():
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "domain/ has no modules"
    offenders = {str(p.relative_to(DOMAIN)): sorted(imported_roots(p) & FORBIDDEN) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_would_catch_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import psycopg\nfrom flask import Flask\n")
    assert imported_roots(bad) & FORBIDDEN == {"psycopg", "flask"}

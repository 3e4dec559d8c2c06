"""Where things are in the repository."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
RULES_DIR = PROJECT_DIR / "rules"
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"

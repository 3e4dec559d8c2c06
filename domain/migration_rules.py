"""What a migration of the previous system's cases needs from rules/migration.csv (no aggregate here:
the rule-file loader reads it; domain/migration.py reads the rows)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import InvalidInput

MIGRATED = "迁移数据"  # the mark every page and export shows on a migrated case


@dataclass(frozen=True)
class MigrationRules:
    """rules/migration.csv: each status word of the previous system, and whether it means finished
    (办结: imported as closed) or still open (imported into the dispatch centre's queue, 待派单)."""

    statuses: dict[str, bool]

    def __post_init__(self) -> None:
        if not self.statuses:
            raise InvalidInput("至少要有一个原系统状态")

    def finished(self, status: str) -> bool:
        if status not in self.statuses:
            known = "、".join(self.statuses)
            raise InvalidInput(f"状态“{status}”不在 rules/migration.csv 中（可用：{known}）")
        return self.statuses[status]

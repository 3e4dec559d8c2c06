"""Who does what: the actor recorded on every event, and which roles may run which commands."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import InvalidInput, NotPermitted

OPERATOR = "operator"  # 坐席 / 派单员 at the hotline's dispatch centre
DEPARTMENT = "department"  # 承办单位 staff, bound to one department
SUPERVISOR = "supervisor"  # 督办人员
ADMIN = "admin"  # 系统管理员
SYSTEM = "system"  # intake consumers and other automatic processes
EDITOR = "editor"  # 知识库编辑: reviews and publishes the knowledge base's articles

ROLES = (OPERATOR, DEPARTMENT, SUPERVISOR, ADMIN, SYSTEM, EDITOR)

ROLE_NAMES = {
    OPERATOR: "话务员",
    DEPARTMENT: "承办单位",
    SUPERVISOR: "督办员",
    ADMIN: "管理员",
    SYSTEM: "系统",
    EDITOR: "知识库编辑",
}


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    department: str | None = None

    def __post_init__(self) -> None:
        if not self.id or not self.id.strip():
            raise InvalidInput("操作人不能为空")
        if self.role not in ROLES:
            raise InvalidInput(f"未知角色：{self.role}")
        if self.role == DEPARTMENT and not self.department:
            raise InvalidInput("承办单位用户必须绑定单位")

    @property
    def fields(self) -> dict[str, str]:
        """The actor as recorded on an event."""
        return {"actor_id": self.id, "actor_role": self.role}


SYSTEM_ACTOR = Actor(id="system", role=SYSTEM)


def role_refusal(actor: Actor, allowed: tuple[str, ...], action: str) -> NotPermitted | None:
    """Why ``actor``'s role may not ``action`` (None: it may)."""
    if actor.role in allowed:
        return None
    names = "、".join(ROLE_NAMES[r] for r in allowed)
    return NotPermitted(f"{ROLE_NAMES.get(actor.role, actor.role)}不能{action}（仅限{names}）")


def require_role(actor: Actor, allowed: tuple[str, ...], action: str) -> None:
    refused = role_refusal(actor, allowed, action)
    if refused is not None:
        raise refused

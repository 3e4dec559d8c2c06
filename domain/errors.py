"""Errors the domain raises. Messages are Chinese: operators and departments read them."""


class DomainError(Exception):
    """A command that the rules do not allow. Nothing is stored when it is raised."""


class InvalidTransition(DomainError):
    """The command does not fit the current state (e.g. replying to a case nobody signed)."""


class NotPermitted(DomainError):
    """The actor's role or department may not do this."""


class InvalidInput(DomainError):
    """A value is missing or malformed."""


class CaseNotFound(DomainError):
    def __init__(self, ticket_no: str):
        super().__init__(f"工单 {ticket_no} 不存在")
        self.ticket_no = ticket_no


class ConcurrentUpdate(DomainError):
    """Someone else changed the aggregate between reading and writing it."""

    def __init__(self, message: str = "该工单已被他人更新，请刷新后重试"):
        super().__init__(message)


class ImplausibleTime(InvalidInput):
    """A time a sender reported that the plausibility rules (rules/time_plausibility.toml) refuse."""

    code = "implausible_time"

"""Every action and block id the bot uses, in one place, so listeners and renderers agree.

Buttons carry `<action>:<subject>` as their action id (Slack wants action ids unique
within a block) and the subject again as their value; listeners match on the prefix.
"""

from enum import StrEnum


class ActionId(StrEnum):
    OPEN_RUNBOOK = "open_runbook"  # value: a pipeline id
    CANCEL_TIME_OFF = "cancel_time_off"  # value: a time-off booking id
    REQUEST_SWAP = "request_swap"  # value: `<shift start ISO>|<role>` (from a holiday swap reminder)

    def for_subject(self, subject: str) -> str:
        return f"{self}:{subject}"

    def pattern(self) -> str:
        return rf"^{self}:"


class BlockId(StrEnum):
    ONCALL_NOW = "oncall_now"
    RUNBOOK_OWNERS = "runbook_owners"
    PIPELINE_CHOICES = "pipeline_choices"
    TIME_OFF = "time_off"  # one per booking: `time_off:<id>`

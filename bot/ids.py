"""Every action and block id the bot uses, in one place, so listeners and renderers agree."""

OPEN_RUNBOOK = "open_runbook"  # button: value is a pipeline id
ONCALL_NOW_BLOCK = "oncall_now"
RUNBOOK_OWNERS_BLOCK = "runbook_owners"
PIPELINE_CHOICES_BLOCK = "pipeline_choices"

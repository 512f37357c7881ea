"""A run book as people ask for it: the document plus who owns the pipeline and who is on
call right now, so the owners shown can never drift from the catalog."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from catalog.queries import PipelineInfo, pick_pipeline, pipeline_info
from runbooks.document import Runbook, load_runbook
from schedules.queries import OnCall, on_call_at
from storage.db import existing
from storage.models import Team


@dataclass(frozen=True)
class RunbookView:
    info: PipelineInfo
    on_call: OnCall | None
    runbook: Runbook


@dataclass(frozen=True)
class OwnersView:
    info: PipelineInfo
    on_call: OnCall | None


def owners_view(session: Session, query: str, now: datetime) -> OwnersView:
    """`who <pipeline>`: the pipeline's owners and its team's current on-call."""
    info = pipeline_info(session, pick_pipeline(session, query), now)
    return OwnersView(info, on_call_at(session, existing(session, Team, info.team_id), now))


def runbook_view(session: Session, query: str, now: datetime) -> RunbookView:
    owners = owners_view(session, query, now)
    return RunbookView(owners.info, owners.on_call, load_runbook(owners.info.id))

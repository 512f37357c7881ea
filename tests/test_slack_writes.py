"""Writes through Slack that race: the same signed request delivered twice at once (a
double submit, a retry) books once, and what a booking did shows in the audit trail."""

import threading

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.settings import Settings
from storage.db import make_engine
from storage.enums import AuditAction, FrontEnd, TimeOffOrigin
from storage.models import AuditEntry, TimeOff
from tests.conftest import make_settings
from tests.slack_fake import FakeSlack, post, sign, slash_command

BOB = "U0B0B00"


def _engine(database_url: str) -> Engine:
    return make_engine(Settings(database_url=make_settings(database_url).database_url).database_url)


def test_the_same_signed_away_request_twice_at_once_books_once(
    bot_url: str, slack: FakeSlack, database_url: str
) -> None:
    body = slash_command("/oncall", "away 2027-03-01 2027-03-05 ski", user_id=BOB, response_url=slack.response_url())
    headers = sign(body)  # one delivery, sent twice: byte for byte the same
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(post(f"{bot_url}/slack/events", body, headers)[0]))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200, 200]
    answers = [call.body for call in slack.wait_for("response/r1", count=2)]

    engine = _engine(database_url)
    try:
        with Session(engine) as session:
            booked = session.exec(
                select(TimeOff).where(TimeOff.member_id == "bob", TimeOff.origin == TimeOffOrigin.ADHOC)
            ).all()
            entries = session.exec(select(AuditEntry).where(AuditEntry.action == AuditAction.TIME_OFF_BOOKED)).all()
    finally:
        engine.dispose()
    assert [(off.first_day.isoformat(), off.last_day.isoformat()) for off in booked] == [("2027-03-01", "2027-03-05")]
    assert [(entry.front_end, entry.actor, entry.member_id) for entry in entries] == [(FrontEnd.SLACK, BOB, "bob")]
    texts = " ".join(str(answer) for answer in answers)
    assert "Time off booked" in texts and "Bob is already away 2027-03-01 to 2027-03-05" in texts

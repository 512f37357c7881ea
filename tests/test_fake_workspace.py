"""Tests of FakeSlack's stateful workspace (tests/fake_workspace.py), through real slack_sdk clients."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from tests.fake_workspace import DEFAULT_SCOPES
from tests.slack_fake import BOT_TOKEN, FakeSlack

ANNOUNCEMENT = {"event_type": "oncall_announcement", "event_payload": {"key": "handover:2026-12-01"}}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def slack_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a WebClient method that must fail; return Slack's body (after checking it was HTTP 200)."""
    with pytest.raises(SlackApiError) as raised:
        call(**kwargs)
    assert raised.value.response.status_code == 200
    return dict(raised.value.response.data)


def test_posts_are_stored_with_metadata_sent_as_json_or_as_a_form(slack: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C0TEAM", text="handover", metadata=ANNOUNCEMENT)
    form_metadata = {"event_type": "oncall_announcement", "event_payload": {"key": "swap:7"}}
    as_string = {"channel": "C0TEAM", "metadata": json.dumps(form_metadata)}
    client.api_call("chat.postMessage", params={**as_string, "text": "swap"})  # a form body
    dm = client.chat_postMessage(channel="U0A11CE", text="you are on call", metadata=ANNOUNCEMENT)
    client.api_call("chat.postMessage", json={**as_string, "text": "as a string"})  # a JSON body, metadata a string

    assert "json" in slack.calls_to("chat.postMessage")[0].header("Content-Type")  # type: ignore[operator]
    assert "form" in slack.calls_to("chat.postMessage")[1].header("Content-Type")  # type: ignore[operator]
    assert [m["text"] for m in slack.workspace.messages("C0TEAM")] == ["handover", "swap", "as a string"]
    assert [m["metadata"] for m in slack.workspace.messages("C0TEAM")[1:]] == [form_metadata] * 2  # dicts
    assert slack.workspace.messages("D0A11CE") == slack.workspace.messages("U0A11CE") != []
    found = slack.workspace.messages_with_metadata_key("handover:2026-12-01")
    assert [(channel, m["ts"]) for channel, m in found] == [("C0TEAM", first["ts"]), ("D0A11CE", dm["ts"])]
    assert slack.workspace.messages_with_metadata_key("swap:7", event_type="other") == []
    assert slack.workspace.messages_with_metadata_key("nothing") == []


def test_history_is_newest_first_and_shows_metadata_only_when_asked(slack: FakeSlack, client: WebClient) -> None:
    posted = [client.chat_postMessage(channel="C0TEAM", text=f"m{i}", metadata=ANNOUNCEMENT)["ts"] for i in range(3)]
    client.chat_postMessage(channel="C0TEAM", text="reply", thread_ts=posted[0])
    client.chat_postMessage(channel="C0OTHER", text="elsewhere")

    plain = client.conversations_history(channel="C0TEAM")
    with_metadata = client.conversations_history(channel="C0TEAM", include_all_metadata=True)

    assert [m["text"] for m in plain["messages"]] == ["m2", "m1", "m0"]  # thread replies stay in the thread
    assert plain["has_more"] is False and "response_metadata" not in plain.data
    assert not any("metadata" in m for m in plain["messages"])
    assert all(m["metadata"] == ANNOUNCEMENT for m in with_metadata["messages"])
    assert slack.last("conversations.history").body["include_all_metadata"] == "1"  # a GET query string
    assert client.conversations_history(channel="C0EMPTY")["messages"] == []


def test_history_bounds_are_exclusive_unless_inclusive(slack: FakeSlack, client: WebClient) -> None:
    ts = [client.chat_postMessage(channel="C0TEAM", text=f"m{i}")["ts"] for i in range(4)]

    def texts(**bounds: Any) -> list[str]:
        return [m["text"] for m in client.conversations_history(channel="C0TEAM", **bounds)["messages"]]

    assert texts(oldest=ts[0], latest=ts[3]) == ["m2", "m1"]
    assert texts(oldest=ts[0], latest=ts[3], inclusive=True) == ["m3", "m2", "m1", "m0"]
    assert texts(oldest=ts[2]) == ["m3"]
    assert texts(latest=ts[1]) == ["m0"]
    assert slack_error(client.conversations_history, channel="C0TEAM", latest="soon")["error"] == "invalid_ts_latest"


def test_history_pages_with_limit_and_cursor(slack: FakeSlack, client: WebClient) -> None:
    for i in range(5):
        client.chat_postMessage(channel="C0TEAM", text=f"m{i}")

    first = client.conversations_history(channel="C0TEAM", limit=2)
    second = client.conversations_history(channel="C0TEAM", limit=2, cursor=first["response_metadata"]["next_cursor"])
    pages = [[m["text"] for m in page["messages"]] for page in client.conversations_history(channel="C0TEAM", limit=2)]

    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"] is True
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]
    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]  # slack_sdk's own cursor iteration
    assert slack_error(client.conversations_history, channel="C0TEAM", cursor="bogus")["error"] == "invalid_cursor"


def test_update_and_delete_change_the_stored_message(slack: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*old*"}}]
    ts = client.chat_postMessage(channel="U0B0B", text="old", blocks=blocks, metadata=ANNOUNCEMENT)["ts"]
    user_ts = slack.workspace.add_message("D0B0B", "from bob", user="U0B0B")["ts"]

    updated = client.chat_update(channel="D0B0B", ts=ts, text="new")

    (message, by_bob) = slack.workspace.messages("D0B0B")
    assert updated["message"]["text"] == message["text"] == "new" and "edited" in message
    assert message["blocks"][0]["text"]["text"] == "*old*" and message["metadata"] == ANNOUNCEMENT  # kept
    client.chat_update(channel="D0B0B", ts=ts, text="no blocks", blocks=[])
    assert "blocks" not in slack.workspace.messages("D0B0B")[0]
    assert slack_error(client.chat_update, channel="D0B0B", ts=user_ts, text="x")["error"] == "cant_update_message"
    assert slack_error(client.chat_delete, channel="D0B0B", ts=user_ts)["error"] == "cant_delete_message"
    assert client.chat_delete(channel="D0B0B", ts=ts)["ts"] == ts
    assert slack.workspace.messages("D0B0B") == [by_bob]
    assert slack_error(client.chat_update, channel="D0B0B", ts=ts, text="x")["error"] == "message_not_found"
    assert slack_error(client.chat_delete, channel="D0B0B", ts=ts)["error"] == "message_not_found"


def test_add_message_seeds_the_past(slack: FakeSlack, client: WebClient) -> None:
    slack.workspace.add_message("C0TEAM", "yesterday", ts="1600000000.000100", metadata=ANNOUNCEMENT)
    client.chat_postMessage(channel="C0TEAM", text="today")

    history = client.conversations_history(channel="C0TEAM", include_all_metadata=True)["messages"]
    assert [(m["text"], m.get("bot_id")) for m in history] == [("today", "B0BOT"), ("yesterday", "B0BOT")]
    assert history[1]["metadata"] == ANNOUNCEMENT
    with pytest.raises(ValueError, match="not a Slack timestamp"):
        slack.workspace.add_message("C0TEAM", "when?", ts="noon")


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
def test_channel_errors_refuse_posting_history_and_topic(slack: FakeSlack, client: WebClient, error: str) -> None:
    slack.workspace.channel_errors["C0GONE"] = error

    assert slack_error(client.chat_postMessage, channel="C0GONE", text="hi") == {"ok": False, "error": error}
    assert slack_error(client.conversations_history, channel="C0GONE")["error"] == error
    assert slack_error(client.conversations_setTopic, channel="C0GONE", topic="t")["error"] == error
    assert slack.workspace.messages("C0GONE") == [] and client.chat_postMessage(channel="C0TEAM", text="hi")["ok"]


def test_user_errors_refuse_posting_and_dms(slack: FakeSlack, client: WebClient) -> None:
    slack.workspace.missing_users.add("U0GONE")
    slack.workspace.user_errors["U0LEFT"] = "account_inactive"

    assert slack_error(client.chat_postMessage, channel="U0GONE", text="hi")["error"] == "user_not_found"
    assert slack_error(client.conversations_open, users=["U0A11CE", "U0GONE"])["error"] == "user_not_found"
    assert slack_error(client.users_info, user="U0GONE")["error"] == "user_not_found"
    assert slack_error(client.chat_postMessage, channel="U0LEFT", text="hi")["error"] == "account_inactive"
    assert slack_error(client.conversations_open, users="U0LEFT")["error"] == "account_inactive"
    assert client.users_info(user="U0LEFT")["user"]["deleted"] is True
    assert client.conversations_open(users="U0A11CE")["channel"]["id"] == "D0A11CE"


def test_history_missing_scope_names_the_scope(slack: FakeSlack, client: WebClient) -> None:
    slack.workspace.history_error = "missing_scope"

    body = slack_error(client.conversations_history, channel="C0TEAM")

    assert (body["error"], body["needed"]) == ("missing_scope", "channels:history")
    assert set(body["provided"].split(",")) == DEFAULT_SCOPES
    assert slack_error(client.conversations_history, channel="D0A11CE")["needed"] == "im:history"
    slack.workspace.history_error = "not_authed"
    assert slack_error(client.conversations_history, channel="C0TEAM") == {"ok": False, "error": "not_authed"}


def test_every_answer_carries_the_granted_scopes(slack: FakeSlack, client: WebClient) -> None:
    auth = client.auth_test()
    assert set(auth.headers["X-OAuth-Scopes"].split(",")) == DEFAULT_SCOPES
    assert "channels:write.topic" in auth.headers["X-OAuth-Scopes"] and len(DEFAULT_SCOPES) == 16

    slack.workspace.scopes -= {"usergroups:write", "chat:write"}
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0TEAM", text="hi")

    assert "chat:write" not in raised.value.response.headers["X-OAuth-Scopes"]
    assert raised.value.response["needed"] == "chat:write"
    assert slack_error(client.usergroups_create, name="Data")["needed"] == "usergroups:write"
    assert client.usergroups_list()["usergroups"] == []  # reading needs usergroups:read only


def test_user_groups_are_created_filled_and_listed(slack: FakeSlack, client: WebClient) -> None:
    created = client.usergroups_create(name="Data on-call", handle="data-oncall", channels=["C0TEAM"])["usergroup"]
    group_id = created["id"]
    client.usergroups_users_update(usergroup=group_id, users=["U0A11CE", "U0B0B"])
    client.usergroups_update(usergroup=group_id, description="Who is on call")

    assert group_id.startswith("S") and created["prefs"]["channels"] == ["C0TEAM"] and created["user_count"] == 0
    assert client.usergroups_users_list(usergroup=group_id)["users"] == ["U0A11CE", "U0B0B"]
    assert slack.workspace.usergroup_members("data-oncall") == slack.workspace.usergroup_members(group_id)
    (listed,) = client.usergroups_list(include_users=True)["usergroups"]
    assert (listed["handle"], listed["users"], listed["user_count"]) == ("data-oncall", ["U0A11CE", "U0B0B"], 2)
    assert listed["description"] == "Who is on call" and listed["is_usergroup"] is True
    assert "users" not in client.usergroups_list()["usergroups"][0]
    client.usergroups_users_update(usergroup=group_id, users="U0CA401")
    assert slack.workspace.usergroup_members("data-oncall") == ["U0CA401"]
    with pytest.raises(KeyError):
        slack.workspace.usergroup_members("nobody")


def test_user_group_errors(slack: FakeSlack, client: WebClient) -> None:
    group_id = client.usergroups_create(name="Data", handle="data")["usergroup"]["id"]
    other_id = client.usergroups_create(name="Other", handle="other")["usergroup"]["id"]

    assert slack_error(client.usergroups_create, name="data", handle="x")["error"] == "name_already_exists"
    assert slack_error(client.usergroups_create, name="New", handle="DATA")["error"] == "handle_already_exists"
    assert slack_error(client.usergroups_update, usergroup=other_id, handle="data")["error"] == "handle_already_exists"
    assert client.usergroups_update(usergroup=group_id, name="Data")["usergroup"]["name"] == "Data"  # itself: fine
    for call, kwargs in [
        (client.usergroups_update, {"name": "X"}),
        (client.usergroups_users_update, {"users": "U0A11CE"}),
        (client.usergroups_users_list, {}),
    ]:
        assert slack_error(call, usergroup="S0NOPE", **kwargs)["error"] == "no_such_subteam"
    assert slack_error(client.usergroups_users_update, usergroup=group_id, users="")["error"] == "no_users_provided"


@pytest.mark.parametrize("refusal", ["paid_teams_only", "permission_denied", "missing_scope"])
def test_usergroups_refusal_refuses_every_usergroups_call(slack: FakeSlack, client: WebClient, refusal: str) -> None:
    group_id = client.usergroups_create(name="Data", handle="data")["usergroup"]["id"]
    slack.workspace.usergroups_refusal = refusal

    calls: list[tuple[Any, dict[str, Any]]] = [
        (client.usergroups_list, {}),
        (client.usergroups_create, {"name": "New"}),
        (client.usergroups_update, {"usergroup": group_id, "name": "X"}),
        (client.usergroups_users_update, {"usergroup": group_id, "users": "U0A11CE"}),
        (client.usergroups_users_list, {"usergroup": group_id}),
    ]
    assert {slack_error(call, **kwargs)["error"] for call, kwargs in calls} == {refusal}
    assert slack.workspace.usergroup_members("data") == []


def test_topic_is_set_and_reported(slack: FakeSlack, client: WebClient) -> None:
    answer = client.conversations_setTopic(channel="C0TEAM", topic="On call: alice")

    assert answer["channel"]["id"] == "C0TEAM" and answer["channel"]["topic"]["value"] == "On call: alice"
    assert answer["channel"]["topic"]["creator"] == "U0BOT"
    info = client.conversations_info(channel="C0TEAM")["channel"]
    assert (info["name"], info["topic"]["value"]) == ("data-oncall", "On call: alice")
    assert slack.workspace.topic("C0TEAM") == "On call: alice" and slack.workspace.topic("C0ELSE") == ""
    assert client.conversations_info(channel="C0ELSE")["channel"]["topic"]["value"] == ""
    assert slack_error(client.conversations_setTopic, channel="C0TEAM", topic="x" * 251)["error"] == "too_long"
    slack.workspace.channel_errors["C0OLD"] = "is_archived"
    assert client.conversations_info(channel="C0OLD")["channel"]["is_archived"] is True


def test_users_are_found_by_email(slack: FakeSlack, client: WebClient) -> None:
    slack.workspace.emails["Alice@Example.com"] = "U0A11CE"

    alice = client.users_lookupByEmail(email="alice@example.COM")["user"]

    assert (alice["id"], alice["name"], alice["profile"]["email"]) == ("U0A11CE", "alice", "Alice@Example.com")
    assert client.users_info(user="U0A11CE")["user"]["profile"]["email"] == "Alice@Example.com"
    assert slack_error(client.users_lookupByEmail, email="nobody@example.com")["error"] == "users_not_found"


def test_rate_limit_answers_429_per_channel_beyond_the_burst(slack: FakeSlack, client: WebClient) -> None:
    slack.workspace.rate_limit_posts(per_second=1.0, burst=3)
    for i in range(3):
        client.chat_postMessage(channel="C0TEAM", text=f"m{i}")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0TEAM", text="too many")

    response = raised.value.response
    assert (response.status_code, response["error"]) == (429, "ratelimited")
    assert int(response.headers["Retry-After"]) >= 1
    assert slack.last("chat.postMessage").status == 429 and len(slack.workspace.messages("C0TEAM")) == 3
    assert client.chat_postMessage(channel="C0OTHER", text="another channel")["ok"]
    slack.workspace.rate_limit_posts(None)
    assert client.chat_postMessage(channel="C0TEAM", text="unlimited")["ok"]


def test_rate_limited_posts_get_through_with_the_retry_handler(slack: FakeSlack) -> None:
    slack.workspace.rate_limit_posts(per_second=5.0, burst=1)
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[RateLimitErrorRetryHandler(2)])

    started = time.monotonic()
    assert [client.chat_postMessage(channel="C0TEAM", text=t)["ok"] for t in ("a", "b")] == [True, True]

    assert [c.status for c in slack.calls_to("chat.postMessage")] == [200, 429, 200]
    assert time.monotonic() - started >= 1  # Retry-After is whole seconds
    assert [m["text"] for m in slack.workspace.messages("C0TEAM")] == ["a", "b"]


def test_injected_500_and_429_are_retried_by_the_sdk_handlers(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=500, headers={}, body={"ok": False, "error": "internal_error"})
    slack.fail_next("chat.postMessage")  # 429, Retry-After: 1
    handlers = [
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)),
        RateLimitErrorRetryHandler(max_retry_count=2),
    ]
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=handlers)

    assert client.chat_postMessage(channel="C0TEAM", text="hi")["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 429, 200]
    assert [m["text"] for m in slack.workspace.messages("C0TEAM")] == ["hi"]  # only the success is stored


def test_concurrent_clients_lose_no_message(slack: FakeSlack) -> None:
    def post_many(thread: int) -> None:
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        for i in range(10):
            client.chat_postMessage(channel="C0TEAM", text=f"{thread}-{i}", metadata=ANNOUNCEMENT)
            client.conversations_history(channel="C0TEAM", limit=5)

    threads = [threading.Thread(target=post_many, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    stored = slack.workspace.messages("C0TEAM")
    assert len(stored) == len({m["ts"] for m in stored}) == 60
    assert [m["ts"] for m in stored] == sorted((m["ts"] for m in stored), key=float)
    assert len(slack.workspace.messages_with_metadata_key("handover:2026-12-01")) == 60


def test_another_process_posts_into_the_same_workspace(slack: FakeSlack) -> None:
    script = (
        "import sys; from slack_sdk import WebClient; "
        "WebClient(token='xoxb-test', base_url=sys.argv[1]).chat_postMessage(channel='C0TEAM', text='from afar')"
    )
    subprocess.run([sys.executable, "-c", script, slack.api_url], check=True, timeout=60)

    assert [m["text"] for m in slack.workspace.messages("C0TEAM")] == ["from afar"]

"""The composed bot, driven in process through ``testbot``: commands are one line, and what it
posts is asserted on the recorded chat calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.testbot import CHANNEL, TestBot


def report(n: int, title: str, summary: str, at: datetime) -> dict[str, object]:
    url = f"https://news.example/{n}"
    return {"title": title, "summary": summary, "url": url, "guid": url, "published": at}


async def test_a_command_is_one_line(testbot: TestBot) -> None:
    assert len((await testbot.push("/news topics")).fields) == 9


async def test_a_member_cannot_change_a_bot_wide_setting(testbot: TestBot) -> None:
    assert not (await testbot.push("/news admin threshold relevance 0.9")).ok
    assert (await testbot.push("/news admin threshold relevance 0.9", owner=True)).ok


async def test_one_event_from_two_outlets_is_posted_once_to_the_subscribed_channel(
    testbot: TestBot,
) -> None:
    assert (await testbot.push("/news subscribe framework-agreement")).ok
    await testbot.cycle()  # the first poll takes the feed's backlog in without alerting
    now = datetime.now(UTC)
    testbot.publish([
        report(1, "India, US sign 10-year defence framework in Kuala Lumpur",
               "Rajnath Singh and Pete Hegseth signed the framework at ADMM-Plus.", now),
        report(2, "Hegseth, Rajnath ink decade-long defence pact at ADMM-Plus",
               "The US defence secretary and India's Rajnath Singh signed the 10-year "
               "framework in Kuala Lumpur.", now + timedelta(minutes=5)),
        report(3, "India beat Australia in Perth", "Cricket: a seven-wicket win.", now),
    ])  # fmt: skip
    await testbot.cycle()
    await testbot.cycle()  # nothing new: nothing posted again
    posts = testbot.chat.posts
    assert [p.channel for p in posts] == [CHANNEL]
    assert "framework-agreement" in posts[0].card.topics
    assert len(posts[0].card.sources) == 2  # both outlets on the one card

"""`make demo` in a real headless browser: the page a newcomer sees, clicked through as people
would (Debian's chromium driven by Playwright; Playwright's own browser download is not used)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from demo.page import serve
from demo.runner import Demo

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where the screenshots go: a temporary folder, or with DEMO_SCREENSHOTS=docs (`make
# screenshots`) the README's pictures in docs/, so an ordinary test run changes no tracked file.
SHOTS_ENV = "DEMO_SCREENSHOTS"
# A Thursday in November: the seeded series meets on the last Thursday (26 November), so the
# series the facilitator creates below (Fridays at noon) is the first thing to happen.
START = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="install chromium: apt-get install chromium"
)

if CHROMIUM.exists():
    from playwright.async_api import Page, async_playwright, expect
else:  # pragma: no cover - skipped above
    Page = object  # type: ignore[assignment,misc]


@pytest_asyncio.fixture
async def demo_url(tmp_path: Path) -> AsyncIterator[tuple[Demo, str]]:
    demo = Demo(tmp_path, START)
    runner, url = await serve(demo, 0)
    try:
        await demo.start()
        yield demo, url
    finally:
        await runner.cleanup()
        await demo.stop()
    assert demo.emulator.violations == []
    assert demo.bot is not None
    assert "Traceback" not in demo.bot.output


async def be(page: Page, name: str) -> None:
    """Switch person, and wait until the page shows the server as they see it."""
    value = await page.locator("#person option", has_text=name).get_attribute("value")
    await page.select_option("#person", value=value)
    await expect(page.locator(f"#person[data-me='{value}']")).to_have_count(1)


async def run_command(page: Page, words: str) -> None:
    """Type a slash command and pick it from the suggestions, as a person does."""
    await page.fill("#command", "/" + words.split()[0])
    await page.click(f"#suggest button[data-command='{words}']")


async def test_a_newcomer_clicks_through_the_demo(
    demo_url: tuple[Demo, str], tmp_path: Path
) -> None:
    demo, url = demo_url
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        context = await browser.new_context(
            viewport={"width": 1100, "height": 760}, timezone_id="Europe/London", locale="en-GB"
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(url)
        await expect(page.locator("#guild")).to_have_text("North adopters")

        # A member trying an admin command sees that they cannot, as Discord would say it.
        await be(page, "Sam (member)")
        await page.fill("#command", "/status")
        await page.press("#command", "Enter")
        await expect(page.locator("#notice")).to_contain_text("/status isn't available to you")

        # A facilitator sets up a series: the preview, then Save; the meeting is announced.
        await be(page, "Priya (facilitator)")
        await run_command(page, "series create")
        await page.fill("#opt-title", "Coffee catch-up")
        await page.fill("#opt-when", "weekly fri")
        await page.click(".choices[data-for=when] button:has-text('Friday')", timeout=10_000)
        await page.fill("#opt-time", "12:00")
        await page.select_option("#opt-room", label="Meeting room")
        await page.click("#options button[type=submit]")
        await page.click("article.msg button:has-text('Save')")
        announcement = page.locator("article.msg", has_text="Coffee catch-up").filter(
            has=page.locator("button", has_text="Going")
        )
        await expect(announcement.first).to_be_visible()

        # Members answer.
        for member in ("Sam (member)", "Aisha (member)"):
            await be(page, member)
            await announcement.first.locator("button", has_text="Going").click()
        await expect(announcement.first).to_contain_text("Going: 2")
        # Each answer's private reply is for the one who clicked ("Only you can see this"):
        # Aisha sees hers, never Sam's.
        await expect(page.locator("article.msg", has_text="you're down as going")).to_have_count(1)
        await announcement.first.scroll_into_view_if_needed()
        await page.screenshot(path=str(shots / "demo-announcement.png"))

        # Skip to the next thing: the day-before reminder (and the call for a facilitator).
        await expect(page.locator("#next")).to_contain_text("a reminder to Sam and Aisha")
        await page.click("#skip")
        await expect(page.locator("#botstate")).to_contain_text("restarting")
        await expect(page.locator("#botstate")).to_have_text("", timeout=45_000)
        await page.click("[data-channel=dm]")
        reminder = page.locator("article.msg", has_text="A reminder: Coffee catch-up")
        await expect(reminder).to_be_visible()
        # Discord timestamps are shown in the viewer's zone (London: noon in November).
        await expect(reminder).to_contain_text("Friday, 6 November 2026 at 12:00")
        await page.screenshot(path=str(shots / "demo-reminder.png"))

        # Sam checks in from the DM: three taps and a few words.
        await be(page, "Sam (member)")
        await page.click("[data-channel=dm]")
        await page.fill("#command", "/checkin")
        await page.press("#command", "Enter")
        await page.click("#options button[type=submit]")
        card = page.locator("article.msg", has_text="A quick check-in").last
        for answer in ("Good", "A bit", "Mostly"):
            await card.locator("button", has_text=answer).first.click()
            await expect(card.locator("button", has_text=answer).first).to_have_class("s3")
        # A few words, in the bot's form (a Discord modal), and the form saves the check-in.
        await card.locator("button", has_text="Add a few words").click()
        await expect(page.locator("dialog#modal")).to_be_visible()
        await page.locator("dialog#modal textarea").fill("Tired, but the group helps.")
        await page.locator("dialog#modal button[type=submit]").click()
        await expect(page.locator("#messages")).to_contain_text("Saved. Thank you for checking in.")
        await page.screenshot(path=str(shots / "demo-checkin.png"))

        # A facilitator sees the group's trends: months with enough people; July held back.
        await be(page, "Priya (facilitator)")
        await page.click("[data-channel]:has-text('facilitators')")
        await run_command(page, "trends")
        await page.click("#options button[type=submit]")
        trends = page.locator("article.msg", has_text="Jul 2026").last
        # The chart is drawn when asked (matplotlib's first chart in a process takes a while).
        await expect(trends).to_contain_text("not enough check-ins", timeout=30_000)
        await expect(trends.locator("img")).to_be_visible()
        assert await trends.locator("img").evaluate("img => img.naturalWidth") > 100
        await trends.locator("img").scroll_into_view_if_needed()
        await page.screenshot(path=str(shots / "demo-trends.png"))

        # Someone in India sees the same reminder at their own time (17:30 IST).
        elsewhere = await browser.new_context(timezone_id="Asia/Kolkata", locale="en-GB")
        far = await elsewhere.new_page()
        await far.goto(url + "?as=" + str(demo.server.members[0].id))
        await far.click("[data-channel=dm]")
        await expect(far.locator("article.msg", has_text="A reminder")).to_contain_text(
            "Friday, 6 November 2026 at 17:30"
        )
        await browser.close()
    assert errors == []

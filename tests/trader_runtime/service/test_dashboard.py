"""The dashboard in headless Chromium, served by a running replay trader: it renders money, positions, the equity
curve, trades and decisions from the trader's own endpoint (no external resource is requested), refuses a control
action with a wrong token, and pauses entries through its button with the right one. Screenshots are kept in the
test's temporary folder (`dashboard-*.png`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from fixtures.trader import WARMUP, options, replay_slice, settings
from trader_runtime.credentials import write_private_file
from trader_runtime.service.app import TraderApp
from trader_runtime.storage.journal import JournalReader

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (Debian package chromium)")
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); the dashboard was not rendered")
    return path


def test_dashboard_renders_and_pauses_entries_through_its_button(tmp_path: Path, synth):
    browser_path = chromium()
    if os.environ.get("CI") != "true":
        pytest.importorskip("playwright.async_api", reason="playwright is in the dev extra: make setup installs it")
    from playwright.async_api import async_playwright

    token_file = tmp_path / "control.token"
    token = write_private_file(token_file)
    app = TraderApp(settings(COINTRADER_CONTROL_TOKEN_FILE=str(token_file)),
                    options(tmp_path / "j.sqlite", replay_slice(synth, WARMUP + 300, 300), http_port=0,
                            speed=900.0 * 3))  # fmt: skip
    seen: dict[str, Any] = {"requests": []}

    async def main() -> None:
        async with async_playwright() as pw:  # the browser first: it starts slowly on a busy machine
            browser = await pw.chromium.launch(executable_path=browser_path, args=CHROMIUM_FLAGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            runner = asyncio.create_task(app.run())
            bot = None
            while not (app.ready and app.http_port and (bot := app.bots["XRPUSDT"]).stats.closes >= 4 and bot.ledger.open):
                if runner.done():
                    await runner
                await asyncio.sleep(0.005)
            base = f"http://127.0.0.1:{app.http_port}"
            page.on("request", lambda r: seen["requests"].append(r.url))
            await page.goto(base + "/")
            await page.wait_for_function("document.querySelectorAll('#trades tbody tr td').length > 3")
            await page.wait_for_function("document.querySelector('#curve polyline') !== null")
            seen["balance"] = await page.text_content("#balance")
            seen["symbols_row"] = await page.text_content("#symbols tbody tr")
            seen["decisions"] = await page.locator("#decisions tbody tr").count()
            await page.screenshot(path=str(tmp_path / "dashboard-1-running.png"), full_page=True)

            await page.fill("#token", "not-the-token-0123456789")
            await page.fill("#reason", "dashboard test")
            await page.click("button[data-action=pause]")
            await page.wait_for_function("document.querySelector('#control-result').className === 'bad'")
            seen["refused"] = await page.text_content("#control-result")
            seen["paused_after_refusal"] = app.controller.paused

            await page.fill("#token", token)
            await page.click("button[data-action=pause]")
            await page.wait_for_function("document.querySelector('#control-result').className === 'ok'")
            seen["done"] = await page.text_content("#control-result")
            await page.wait_for_selector("#paused:not(.hidden)")
            await page.wait_for_function("document.querySelectorAll('#actions tbody tr td').length > 3")
            seen["actions_row"] = await page.text_content("#actions tbody tr")
            await page.screenshot(path=str(tmp_path / "dashboard-2-paused.png"), full_page=True)
            await browser.close()
        seen["paused"] = app.controller.paused
        app.request_stop()
        await runner

    asyncio.run(asyncio.wait_for(main(), 180))
    assert seen["balance"].endswith("USDT") and "XRPUSDT" in seen["symbols_row"] and seen["decisions"] >= 5
    assert "refused (401)" in seen["refused"] and seen["paused_after_refusal"] is None
    assert "pause: done" in seen["done"] and seen["paused"]["reason"] == "dashboard test"
    assert "pause" in seen["actions_row"] and "dashboard test" in seen["actions_row"]
    assert all(u.startswith(f"http://127.0.0.1:{app.http_port}/") for u in seen["requests"])  # offline: nothing else
    with JournalReader(tmp_path / "j.sqlite") as r:
        events = r.events("CONTROL")
    assert [e["detail"]["action"] for e in events] == ["pause"]
    for name in ("dashboard-1-running.png", "dashboard-2-paused.png"):
        assert (tmp_path / name).stat().st_size > 20_000

"""Screenshots of the real assistant (not the test fakes) from a running `make demo`.

Start the demo first (`make demo`, wait for "ready"), then:

    .venv/bin/python scripts/demo_screenshots.py [--url http://127.0.0.1:7860] [--out docs/screenshots]

It drives headless Chromium like a shopper on a desktop (1280 px) and a phone (390 px), and an agent in
the copilot tab, and saves demo-shopper-desktop.png, demo-shopper-phone.png and demo-copilot-desktop.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 180_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOPPER_TURNS = ("waterproof jacket for women under $80", "which one is best for rain?")
PHONE_TURNS = ("what is the cheapest backpack you have?",)
CUSTOMER = "Hi, the jacket I bought last week leaks in the rain. Do you have a waterproof one under $80?"


def send(page: Page, message: str, replies: int) -> None:
    """Type a shopper message, press Enter and wait until the reply's text and quick replies are shown."""
    box = page.locator("#sa-box textarea")
    box.fill(message)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#sa-chat .sa-text').length >= n", arg=replies, timeout=TIMEOUT_MS)
    settle(page)


def settle(page: Page, quiet_ms: int = 1500) -> None:
    """Wait until the chat stops changing (replies stream in pieces; some have no quick replies)."""
    before, waited = None, 0
    while waited < TIMEOUT_MS:
        now = page.locator("#sa-chat").inner_text()
        if now == before:
            return
        before = now
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms


def shopper(page: Page, url: str, turns: tuple[str, ...], shot: Path) -> None:
    page.goto(url, timeout=TIMEOUT_MS)
    for count, message in enumerate(turns, start=1):
        send(page, message, count)
    page.screenshot(path=str(shot))


def copilot(page: Page, url: str, shot: Path) -> None:
    page.goto(url, timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Agent copilot").click()
    page.locator("#sa-customer textarea").fill(CUSTOMER)
    page.locator("#sa-customer textarea").press("Control+Enter")
    page.wait_for_function(
        "() => document.querySelector('#sa-customer-copy textarea').value.length > 0", timeout=TIMEOUT_MS)
    settle(page)
    page.screenshot(path=str(shot), full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running app")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        desktop = browser.new_page(viewport=DESKTOP)
        shopper(desktop, args.url, SHOPPER_TURNS, args.out / "demo-shopper-desktop.png")
        shopper(browser.new_page(viewport=PHONE), args.url, PHONE_TURNS, args.out / "demo-shopper-phone.png")
        copilot(browser.new_page(viewport=DESKTOP), args.url, args.out / "demo-copilot-desktop.png")
        browser.close()
    print(f"saved 3 screenshots in {args.out}")


if __name__ == "__main__":
    main()

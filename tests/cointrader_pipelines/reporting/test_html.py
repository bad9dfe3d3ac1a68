from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from cointrader_pipelines.reporting.html import PLOT_IDS, render_weekly_html

IMG = re.compile(r'<figure id="(?P<id>[^"]+)" class="plot"><img alt="[^"]*" src="data:image/png;base64,(?P<data>[^"]+)">')
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
EQUITY_BLUE = np.array([0x25, 0x63, 0xEB])


def _plots(html: str) -> dict[str, Image.Image]:
    return {m["id"]: Image.open(io.BytesIO(base64.b64decode(m["data"]))) for m in IMG.finditer(html)}


def test_page_is_self_contained_with_every_plot(full_report):
    html = render_weekly_html(full_report)
    plots = _plots(html)
    assert list(plots) == list(PLOT_IDS)
    for image in plots.values():
        assert image.format == "PNG" and image.width >= 800 and image.height >= 250
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing loaded from elsewhere
    for section in ("summary", "equity", "per-symbol", "live", "trend", "kill-switch", "ml-checklist", "sweep"):
        assert f'id="{section}"' in html
    assert "Market context per fold" in html
    assert any(f"{regime} (ADX" in html for regime in ("uptrend", "downtrend", "range"))


def test_partial_report_explains_what_is_missing(full_report):
    partial = dict(full_report, status="partial", issues=[{"section": "live", "message": "journal <missing>"}])
    html = render_weekly_html(partial)
    assert 'class="badge partial"' in html and "journal &lt;missing&gt;" in html


def _blue_pixels(path) -> int:
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    return int((np.abs(pixels - EQUITY_BLUE).sum(axis=1) < 60).sum())


def test_page_renders_in_headless_chromium(full_report, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); the HTML page was not rendered")
    page = tmp_path / "report.html"
    page.write_text(render_weekly_html(full_report), encoding="utf-8")
    shot = tmp_path / "report.png"
    cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1280,2000", page.as_uri()]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    image = Image.open(shot)
    assert image.size == (1280, 2000)
    # the equity curve (drawn in the equity blue) is on the first screen only if its embedded PNG was decoded
    assert _blue_pixels(shot) > 2000
    empty = tmp_path / "empty.html"
    empty.write_text(re.sub(r"base64,[^\"]+", "base64,AAAA", page.read_text()), encoding="utf-8")
    subprocess.run([*cmd[:-2], f"--screenshot={tmp_path / 'empty.png'}", cmd[-2], empty.as_uri()], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    assert _blue_pixels(tmp_path / "empty.png") < 200  # broken images leave no blue: the check can fail

"""The daily report in a real browser (Debian's chromium): the page opens for a supervisor, its
server-drawn charts render with their bars and slices, and nothing is fetched from elsewhere."""

import pytest

from hotline.infra.demo import DEMO_USERS
from tests.support.live import chromium, hotline, live_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = {username: password for username, password, *_ in DEMO_USERS}
# Per chart: loaded, its own width, its width on the page, and how many of its pixels are in colour (the
# palette's bars and slices: neither white, grey nor black).
DRAWN = """() => Array.from(document.querySelectorAll('img.chart-img')).map(img => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
    if (pixels[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) inked++;
  }
  return [img.complete, img.naturalWidth, img.getBoundingClientRect().width, inked];
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("reports-browser")
    hotline(data_dir, "demo", "--cases", "80")
    with live_server(data_dir) as url:
        yield url


def test_the_daily_report_opens_and_its_charts_render(server, tmp_path):
    with chromium() as browser:
        page = sign_in(browser, server, "supervisor", PASSWORD["supervisor"], viewport={"width": 1280, "height": 900})
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(server + "/reports?kind=week")
        page.wait_for_selector("img.chart-img")
        assert "周报" in page.title() and page.locator("text=诉求总量").count() >= 1
        charts = page.evaluate(DRAWN)
        assert len(charts) >= 6
        for loaded, width, shown, inked in charts:
            assert loaded and width > 0 and shown > 200 and inked > 500, charts  # drawn: coloured bars and slices
        assert page.locator("text=15 秒接通率").count() >= 1
        page.goto(server + "/reports?kind=day")
        page.wait_for_selector("img.chart-img")
        page.screenshot(path=str(tmp_path / "daily-report.png"), full_page=True)
        assert (tmp_path / "daily-report.png").stat().st_size > 10_000
        assert all(url.startswith(server) for url in requested), [u for u in requested if not u.startswith(server)]

"""Charts drawn on the server as SVG (pygal): nothing is loaded from the internet, the page and the
PDF carry the same pictures. Each chart is an ``<img>`` with the SVG as a data: URI: pygal styles
its SVG with a ``<style>`` element, which the pages' Content-Security-Policy (web/security.py: no
style elements) would block inline, while an image's own document keeps its styles."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from html import escape

import pygal
from markupsafe import Markup
from pygal.style import Style

SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
FONT = '"WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif'
STYLE = Style(
    font_family=FONT,
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#2f6fb3", "#d9822b", "#3f9142", "#b03a48", "#7a5195", "#00838f"),
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)


def _image(chart, title: str) -> Markup:
    # pygal adds a small config script for its optional tooltips; an image never runs it: left out.
    svg = SCRIPT.sub("", chart.render(is_unicode=True))
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup(f'<img class="chart-img" alt="{escape(title)}" src="data:image/svg+xml;base64,{data}">')


COMMON = {"style": STYLE, "js": [], "disable_xml_declaration": True, "show_legend": False, "width": 640}


def bars(title: str, items: Sequence[tuple[str, int]], limit: int = 12) -> Markup:
    """A horizontal bar chart of (label, count), the largest first."""
    shown = list(items)[:limit]
    chart = pygal.HorizontalBar(
        title=title,
        height=max(180, 36 * len(shown) + 80),
        print_values=True,
        **COMMON,  # type: ignore[arg-type]
    )
    chart.x_labels = [label for label, _ in reversed(shown)]
    chart.add(title, [count for _, count in reversed(shown)])
    return _image(chart, title)


def pie(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    chart = pygal.Pie(title=title, height=320, inner_radius=0.45, **{**COMMON, "show_legend": True})  # type: ignore[arg-type]
    for label, count in items:
        chart.add(label, count)
    return _image(chart, title)


def line(title: str, labels: Sequence[str], series: dict[str, Sequence[int]]) -> Markup:
    chart = pygal.Line(title=title, height=300, x_label_rotation=30, **{**COMMON, "show_legend": True})  # type: ignore[arg-type]
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _image(chart, title)

"""Charts drawn on the server as SVG (pygal): nothing is loaded from the internet, the page and the
PDF carry the same pictures."""

from __future__ import annotations

from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

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
    return Markup(chart.render(is_unicode=True))


def pie(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    chart = pygal.Pie(title=title, height=320, inner_radius=0.45, **{**COMMON, "show_legend": True})  # type: ignore[arg-type]
    for label, count in items:
        chart.add(label, count)
    return Markup(chart.render(is_unicode=True))


def line(title: str, labels: Sequence[str], series: dict[str, Sequence[int]]) -> Markup:
    chart = pygal.Line(title=title, height=300, x_label_rotation=30, **{**COMMON, "show_legend": True})  # type: ignore[arg-type]
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return Markup(chart.render(is_unicode=True))

"""Chart geometry for inline SVG: the template draws the shapes; Jinja escapes every label."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 16, 44


def _scale_max(value: int) -> int:
    """A round upper end for the axis at or above `value`."""
    for nice in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= nice:
            return nice
    return ((value // 10000) + 1) * 10000


def _ticks(top: int) -> list[int]:
    return [top * n // 4 for n in range(5)]


def bar_chart(labels: list[str], first: list[int], second: list[int], title: str,
              legend: tuple[str, str]) -> dict[str, Any]:
    """Return paired bars (e.g. registered and arrived) per label, scaled into the SVG box."""
    top = _scale_max(max([*first, *second, 1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar = min(slot * 0.38, 48)
    groups = []
    for n, label in enumerate(labels):
        x0 = LEFT + n * slot + (slot - 2 * bar) / 2
        bars = []
        for k, value in enumerate((first[n], second[n])):
            h = plot_h * value / top
            bars.append({"x": round(x0 + k * bar, 1), "y": round(TOP + plot_h - h, 1),
                         "w": round(bar - 2, 1), "h": round(h, 1), "value": value,
                         "series": ("first", "second")[k]})
        groups.append({"label": label, "cx": round(LEFT + n * slot + slot / 2, 1),
                       "bars": bars})
    return {"kind": "bar", "title": title, "width": WIDTH, "height": HEIGHT, "groups": groups,
            "legend": legend, "ticks": [{"value": t, "y": round(TOP + plot_h - plot_h * t / top,
                                                                   1)} for t in _ticks(top)],
            "left": LEFT, "right": WIDTH - RIGHT, "base": TOP + plot_h}


def line_chart(labels: list[str], series: list[tuple[str, list[int], str]],
               title: str) -> dict[str, Any]:
    """Return polylines for series over time slots, with an hourly label on the x axis."""
    values = [v for _name, vs, _cls in series for v in vs]
    top = _scale_max(max([*values, 1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    lines = []
    for name, vs, cls in series:
        points = " ".join(f"{LEFT + n * step:.1f},{TOP + plot_h - plot_h * v / top:.1f}"
                          for n, v in enumerate(vs))
        lines.append({"name": name, "points": points, "class": cls,
                      "last": vs[-1] if vs else 0})
    xlabels = [{"x": round(LEFT + n * step, 1), "label": label}
               for n, label in enumerate(labels) if label.endswith(":00")]
    return {"kind": "line", "title": title, "width": WIDTH, "height": HEIGHT, "lines": lines,
            "xlabels": xlabels, "ticks": [{"value": t, "y": round(TOP + plot_h - plot_h * t / top,
                                                                     1)} for t in _ticks(top)],
            "left": LEFT, "right": WIDTH - RIGHT, "base": TOP + plot_h, "empty": not labels}

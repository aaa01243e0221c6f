"""Server-rendered SVG charts: plain markup, no JavaScript, no CSS variables.

The same function draws the dashboard's chart in the browser and the PDF's in
WeasyPrint, so sizes, fonts and text positions are all explicit attributes:
both renderers then agree to the pixel (no dominant-baseline, no CSS classes).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "DejaVu Sans, Verdana, sans-serif"
INK = "#1f2937"
MUTED = "#6b7280"
TRACK = "#eef2f7"
PALETTE = ("#1d4ed8", "#2563eb", "#3b82f6", "#60a5fa", "#0f766e")


@dataclass(frozen=True)
class Bar:
    label: str  # already translated
    value: float
    annotation: str = ""  # already formatted for the reader's locale, e.g. "120 · 45 %"
    color: str = ""


def _text(x: float, y: float, content: str, *, size: int = 12, anchor: str = "start", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{fill}">{escape(content)}</text>'
    )


def bar_chart_svg(
    bars: Sequence[Bar],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 26,
    gap: int = 10,
    label_width: int = 150,
    annotation_width: int = 130,
) -> Markup:
    """Horizontal bars, longest = full track; label left, annotation right."""
    top = 4
    height = top + len(bars) * (bar_height + gap) - gap + 4 if bars else 40
    track = width - label_width - annotation_width - 16
    peak = max((b.value for b in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    # Text baselines sit about a third of the font size below the bar's middle.
    for i, bar in enumerate(bars):
        y = top + i * (bar_height + gap)
        middle = y + bar_height / 2 + 4.2
        length = max(track * bar.value / peak, 2 if bar.value else 0)
        color = bar.color or PALETTE[min(i, len(PALETTE) - 1)]
        parts += [
            _text(label_width - 8, middle, bar.label, anchor="end"),
            f'<rect x="{label_width}" y="{y}" width="{track}" height="{bar_height}" rx="3" fill="{TRACK}"/>',
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" rx="3" '
            f'fill="{color}"/>',
            _text(label_width + track + 8, middle, bar.annotation, size=11, fill=MUTED),
        ]
    if not bars:
        parts.append(_text(width / 2, 24, title, anchor="middle", fill=MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))


def funnel_svg(stages: Sequence[Bar], *, title: str, width: int = 640) -> Markup:
    """The funnel: one bar per stage, counts and stage-to-stage conversion beside it."""
    return bar_chart_svg(stages, title=title, width=width, bar_height=30, gap=8, label_width=120)

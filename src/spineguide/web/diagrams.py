"""Geometry for the inline SVG pictures: spine L1-S1, leg dermatomes, bars and trend charts.

Templates draw the shapes; these functions only compute coordinates (no markup here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

VERTEBRAE = ("L1", "L2", "L3", "L4", "L5")
DISCS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")


@dataclass
class SpinePart:
    """A vertebra or disc in the spine picture, with which halves are marked."""

    kind: str  # vertebra | disc | sacrum
    level: str
    x: float
    y: float
    w: float
    h: float
    left: bool = False
    right: bool = False
    labels: list[str] = field(default_factory=list)
    severity: str | None = None  # low | medium | high | urgent (colour in the picture)

    @property
    def marked(self) -> bool:
        """True when any half is highlighted."""
        return self.left or self.right


def spine_parts(
    marks: list[tuple[str, str | None, str]], severities: dict[str, str] | None = None
) -> list[SpinePart]:
    """Vertebrae L1-L5, discs L1-L2..L5-S1 and the sacrum; marks are (level, side, label).

    `severities` maps a level to low/medium/high/urgent so each level is coloured by how much
    it matters (without it every marked part is drawn the same way).
    """
    parts: list[SpinePart] = []
    y = 12.0
    for i, v in enumerate(VERTEBRAE):
        parts.append(SpinePart("vertebra", v, 90, y, 100, 44))
        y += 48
        parts.append(SpinePart("disc", DISCS[i], 96, y, 88, 14))
        y += 18
    parts.append(SpinePart("sacrum", "S1", 90, y, 100, 58))
    by_level = {p.level: p for p in parts}
    for level, side, label in marks:
        part = by_level.get(level)
        if part is None:
            continue
        # Back view: the person's left is on the viewer's left.
        if side in ("left", "bilateral", "central", None):
            part.left = True
        if side in ("right", "bilateral", "central", None):
            part.right = True
        part.labels.append(label)
        if severities and level in severities:
            part.severity = severities[level]
    return parts


@dataclass
class Region:
    """One dermatome patch on one leg."""

    root: str
    view: str  # front | back
    leg: str  # left | right (the person's side)
    points: str
    cx: float
    cy: float
    highlighted: bool = False


def _rect(x: float, y: float, w: float, h: float) -> str:
    return f"{x:g},{y:g} {x + w:g},{y:g} {x + w:g},{y + h:g} {x:g},{y + h:g}"


def dermatome_regions(highlight: dict[str, set[str]]) -> list[Region]:
    """Leg patches for L1-S1 (front and back views); highlight maps root -> sides."""
    regions: list[Region] = []
    leg_w = 56.0
    for view, x0 in (("front", 0.0), ("back", 210.0)):
        for leg_index in (0, 1):
            lx = x0 + 22 + leg_index * 86
            # Front view: the person's right leg is on the viewer's left; back view: the reverse.
            if view == "front":
                leg = "right" if leg_index == 0 else "left"
            else:
                leg = "left" if leg_index == 0 else "right"
            medial_on_right = leg_index == 0  # the inner side faces the middle of the picture
            half = leg_w / 2
            mx = lx + half if medial_on_right else lx
            latx = lx if medial_on_right else lx + half
            patches: list[tuple[str, float, float, float, float]] = []
            if view == "front":
                patches += [
                    ("L1", lx, 20, leg_w, 26),
                    ("L2", lx, 46, leg_w, 74),
                    ("L3", lx, 120, leg_w, 92),
                    ("L4", mx, 212, half, 148),
                    ("L5", latx, 212, half, 148),
                    ("L4", mx + (half * 0.6 if medial_on_right else 0), 360, half * 0.4, 30),
                    (
                        "L5",
                        lx + (0 if medial_on_right else half * 0.4),
                        360,
                        leg_w - half * 0.4,
                        30,
                    ),
                ]
            else:
                third = leg_w / 3
                patches += [
                    ("L4", mx + (third * 0.5 if medial_on_right else 0), 212, third * 1.0, 148),
                    ("S1", lx + third, 212, third, 148),
                    ("L5", latx + (0 if medial_on_right else third * 0.5), 212, third * 1.0, 148),
                    ("S1", lx, 360, leg_w, 30),
                ]
            for root, x, y, w, h in patches:
                regions.append(
                    Region(
                        root=root,
                        view=view,
                        leg=leg,
                        points=_rect(x, y, w, h),
                        cx=x + w / 2,
                        cy=y + h / 2,
                        highlighted=leg in highlight.get(root, set()),
                    )
                )
    return regions


def legs_outline() -> list[str]:
    """Outline rectangles of the four legs (two views) as SVG points."""
    out = []
    for x0 in (0.0, 210.0):
        for leg_index in (0, 1):
            lx = x0 + 22 + leg_index * 86
            out.append(_rect(lx, 20, 56, 370))
    return out


@dataclass
class ChartPoint:
    """One plotted value."""

    x: float
    y: float
    value: float
    label: str
    band: str | None = None


@dataclass
class Chart:
    """A small line chart: points, y ticks and the polyline."""

    title: str
    unit: str
    width: int
    height: int
    points: list[ChartPoint]
    ticks: list[tuple[float, str]]
    polyline: str
    x0: float
    y0: float
    x1: float
    y1: float
    better: str
    mic_y: float | None = None
    mic_label: str = ""


def trend_chart(
    title: str,
    series: list[tuple[datetime, float, str | None]],
    maximum: float,
    unit: str,
    better: str = "Lower is better.",
    mic: float | None = None,
) -> Chart:
    """Place time-ordered (when, value, band) items on a fixed 0..maximum axis.

    With `mic` (minimal important change) a dashed line marks the first score minus the MIC:
    later scores at or below it are a change that matters to patients.
    """
    width, height = 400, 230
    x0, x1, y0, y1 = 44.0, width - 14.0, 18.0, height - 42.0
    pts: list[ChartPoint] = []
    n = len(series)
    if n:
        t0 = series[0][0].timestamp()
        span = series[-1][0].timestamp() - t0
        for i, (when, value, band) in enumerate(series):
            frac = (when.timestamp() - t0) / span if span > 0 else 0.5 if n == 1 else i / (n - 1)
            x = x0 + frac * (x1 - x0)
            y = y1 - (max(0.0, min(value, maximum)) / maximum) * (y1 - y0)
            pts.append(ChartPoint(x, y, value, when.strftime("%d %b %Y"), band))
    ticks = [(y1 - f * (y1 - y0), f"{maximum * f:g}") for f in (0, 0.25, 0.5, 0.75, 1)]
    poly = " ".join(f"{p.x:.1f},{p.y:.1f}" for p in pts)
    chart = Chart(title, unit, width, height, pts, ticks, poly, x0, y0, x1, y1, better)
    if mic is not None and pts and pts[0].value - mic >= 0:
        target = pts[0].value - mic
        chart.mic_y = y1 - (target / maximum) * (y1 - y0)
        chart.mic_label = f"first score − {mic:g} (important change)"
    return chart

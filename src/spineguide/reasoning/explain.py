"""Render an Assessment as readable text (Rich markup) or a self-contained HTML report."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spineguide.reasoning.assess import Assessment

URGENCY_TEXT = {
    "emergency": "EMERGENCY — same-day emergency department",
    "urgent": "URGENT — seen within 24-48 hours or urgent investigation",
    "routine": "ROUTINE — planned primary-care or specialist review",
    "self_care": "SELF-CARE — self-management with safety-netting",
}
URGENCY_STYLE = {"emergency": "bold white on red", "urgent": "bold black on yellow",
                 "routine": "bold white on blue", "self_care": "bold white on green"}  # fmt: skip


def render_text(a: Assessment, max_dx: int = 6) -> str:
    """Readable multi-section text with Rich markup (print with a Rich console)."""
    u = a.triage.urgency.value
    lines = [f"[{URGENCY_STYLE[u]}] {URGENCY_TEXT[u]} [/]", ""]
    if a.triage.red_flags:
        lines.append("[bold]Red flags[/bold]")
        for r in a.triage.red_flags:
            ev = ", ".join(f"{e.label}" + (f' ("{e.text}")' if e.text else "") for e in r.evidence)
            lines.append(f"  • {r.name} → {r.urgency.value}{' (escalated)' if r.escalated else ''}")
            lines.append(f"    evidence: {ev}")
            lines.append(f"    action: {r.action}")
            lines.append(f"    sources: {', '.join(r.sources)}")
    for reason in a.triage.reasons:
        lines.append(f"  [dim]{reason}[/dim]")
    if a.triage.unanswered_red_flags:
        lines.append(
            "  Red-flag questions not yet answered: " + "; ".join(a.triage.unanswered_red_flags)
        )
    if a.next_questions:
        lines.append("")
        lines.append("[bold]Ask next[/bold] (answer with --answer FINDING_ID=yes|no)")
        for q in a.next_questions:
            lines.append(f"  • {q.question} [dim]({q.finding_id}; changes {q.changes}, "
                         f"value {q.gain:.2f})[/dim]")  # fmt: skip
            lines.append(f"    [dim]why: {q.why}[/dim]")
    lines.append("")
    lines.append("[bold]Nerve root[/bold]")
    if a.localization.roots:
        for r in a.localization.roots[:3]:
            lines.append(
                f"  {r.root} {r.side or ''}: {r.probability:.0%}  ({', '.join(r.evidence[:5])})"
            )
            for note in r.imaging:
                lines.append(f"    imaging: {note}")
        if a.localization.upper_lumbar_reasoning:
            lines.append(f"  [dim]{a.localization.upper_lumbar_reasoning}[/dim]")
    else:
        lines.append(f"  {a.localization.note or 'No root localised.'}")
    lines.append("")
    lines.append("[bold]Differential[/bold]")
    for d in a.differential[:max_dx]:
        tag = " [red](must not miss)[/red]" if d.must_not_miss else ""
        where = ", ".join(x for x in (d.level, d.side) if x)
        lines.append(f"  {d.probability:5.0%}  {d.name}{tag}" + (f" [{where}]" if where else ""))
        if d.subtype:
            lines.append(f"         type: {d.subtype} ({d.subtype_reason})")
        if d.evidence_for:
            lines.append("         for: " + ", ".join(
                f"{c.label} ×{c.likelihood_ratio:g}" for c in d.evidence_for[:5]))  # fmt: skip
        if d.evidence_against:
            lines.append("         against: " + ", ".join(
                f"{c.label} ×{c.likelihood_ratio:g}" for c in d.evidence_against[:4]))  # fmt: skip
    if a.imaging:
        lines.append("")
        lines.append("[bold]Imaging findings[/bold]")
        for f in a.imaging:
            neg = "no " if f.negated else ""
            unc = " (uncertain)" if f.uncertain else ""
            root = f", root {f.root}" if f.root else ""
            lines.append(f"  {f.level or '-'} {f.side or ''}: {neg}{f.finding.replace('_', ' ')} "
                         f"({f.severity}){root}{unc}")  # fmt: skip
    lines.append("")
    lines.append("[bold]Work-up[/bold]")
    for label, bucket in (("Now", a.workup.now), ("If no improvement", a.workup.if_no_improvement),
                          ("Not recommended", a.workup.not_recommended)):  # fmt: skip
        for item in bucket:
            lines.append(f"  {label}: {item.name} — {item.why}")
    lines.append("")
    lines.append(f"[bold]Care plan[/bold] ({a.plan.diagnosis_name or a.plan.diagnosis})")
    for step in a.plan.steps:
        if not step.items and not step.advised_against and not step.advice:
            continue
        lines.append(f"  [bold]{step.title}[/bold]")
        for adv in step.advice[:4]:
            lines.append(f"    - {adv}")
        for item in step.items[:8]:
            alert = f" [red]⚠ {'; '.join(item.alerts)}[/red]" if item.alerts else ""
            lines.append(
                f"    ✓ {item.name} — {item.verdict.replace('_', ' ')} ({item.verdict_text}){alert}"
            )
        for item in step.advised_against:
            lines.append(f"    ✗ {item.name} — advised against ({item.verdict_text})")
    for c in a.plan.referral_criteria:
        lines.append(f"  Referral: {c}")
    if a.medication_alerts:
        lines.append("")
        lines.append("[bold]Medication alerts[/bold]")
        for al in a.medication_alerts:
            lines.append(f"  [{al.get('severity')}] {al.get('message')} → {al.get('action')}")
    for w in a.warnings:
        lines.append(f"[yellow]warning: {w}[/yellow]")
    lines.append("")
    lines.append(f"[dim]{a.disclaimer} Knowledge base {a.kb_version}.[/dim]")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:960px;margin:1.5rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.4rem}h2{font-size:1.15rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:1.6rem}
.banner{padding:.8rem 1rem;border-radius:6px;font-weight:700;font-size:1.1rem}
.emergency{background:#b00020;color:#fff}.urgent{background:#ffcc00;color:#000}
.routine{background:#1f4e99;color:#fff}.self_care{background:#1b6e3a;color:#fff}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e3e3;padding:.35rem;text-align:left;
vertical-align:top}.bar{background:#1f4e99;height:.7rem;border-radius:3px}.mnm{color:#b00020;font-weight:700}
.against{color:#8a1c1c}.small{font-size:.88rem;color:#444}.disclaimer{border:1px solid #999;padding:.6rem;
margin-top:1.5rem;font-size:.9rem}@media print{.banner{border:2px solid #000}}
"""


def render_html(a: Assessment) -> str:
    """A self-contained HTML report (inline CSS, no external assets)."""
    e = escape
    u = a.triage.urgency.value
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>SpineGuide assessment {e(a.id[:8])}</title><style>{_CSS}</style></head><body>",
        "<h1>SpineGuide assessment</h1>",
        f"<div class='banner {u}' role='alert'>{e(URGENCY_TEXT[u])}</div>",
    ]
    if a.triage.red_flags:
        parts.append("<h2>Red flags</h2><ul>")
        for r in a.triage.red_flags:
            ev = ", ".join(e(x.label) for x in r.evidence)
            parts.append(
                f"<li><strong>{e(r.name)}</strong> ({e(r.urgency.value)}) — evidence: {ev}. "
                f"<br><em>{e(r.action)}</em> <span class='small'>[{e(', '.join(r.sources))}]</span></li>"
            )
        parts.append("</ul>")
    if a.triage.unanswered_red_flags:
        parts.append("<p>Red-flag questions not yet answered: "
                     f"{e('; '.join(a.triage.unanswered_red_flags))}</p>")  # fmt: skip
    if a.next_questions:
        parts.append("<h2>Ask next</h2><ul>")
        for q in a.next_questions:
            parts.append(f"<li>{e(q.question)} <span class='small'>({e(q.finding_id)}; changes "
                         f"{e(q.changes)}; {e(q.why)})</span></li>")  # fmt: skip
        parts.append("</ul>")
    parts.append("<h2>Nerve root</h2>")
    if a.localization.roots:
        parts.append(
            "<table><tr><th>Root</th><th>Side</th><th>Probability</th><th>Evidence</th></tr>"
        )
        for r in a.localization.roots[:4]:
            parts.append(
                f"<tr><td>{e(r.root)}</td><td>{e(r.side or '')}</td><td>{r.probability:.0%}</td>"
                f"<td>{e(', '.join(r.evidence + r.imaging))}</td></tr>"
            )
        parts.append("</table>")
        if a.localization.upper_lumbar_reasoning:
            parts.append(f"<p class='small'>{e(a.localization.upper_lumbar_reasoning)}</p>")
    else:
        parts.append(f"<p>{e(a.localization.note or 'No root localised.')}</p>")
    parts.append("<h2>Differential</h2><table><tr><th>Diagnosis</th><th>Probability</th>"
                 "<th>Evidence for</th><th>Evidence against</th></tr>")  # fmt: skip
    for d in a.differential[:8]:
        mnm = " <span class='mnm'>must not miss</span>" if d.must_not_miss else ""
        width = max(2, int(d.probability * 100))
        sub = f"<br><span class='small'>type: {e(d.subtype)}</span>" if d.subtype else ""
        parts.append(
            f"<tr><td>{e(d.name)}{mnm}{sub}</td><td><div class='bar' style='width:{width}%'></div>"
            f"{d.probability:.0%}</td><td>"
            + e(", ".join(f"{c.label} ×{c.likelihood_ratio:g}" for c in d.evidence_for[:5]))
            + "</td><td class='against'>"
            + e(", ".join(f"{c.label} ×{c.likelihood_ratio:g}" for c in d.evidence_against[:4]))
            + "</td></tr>"
        )
    parts.append("</table>")
    if a.imaging:
        parts.append("<h2>Imaging findings</h2><ul>")
        for f in a.imaging:
            neg = "no " if f.negated else ""
            parts.append(f"<li>{e(f.level or '-')} {e(f.side or '')}: {neg}{e(f.finding.replace('_', ' '))} "
                         f"({e(f.severity)})</li>")  # fmt: skip
        parts.append("</ul>")
    parts.append("<h2>Work-up</h2>")
    for label, bucket in (("Now", a.workup.now), ("Only if no improvement", a.workup.if_no_improvement),
                          ("Not recommended", a.workup.not_recommended)):  # fmt: skip
        if bucket:
            parts.append(f"<h3>{label}</h3><ul>")
            parts += [f"<li><strong>{e(i.name)}</strong> — {e(i.why)}</li>" for i in bucket]
            parts.append("</ul>")
    parts.append(f"<h2>Care plan: {e(a.plan.diagnosis_name or '')}</h2>")
    for step in a.plan.steps:
        if not (step.items or step.advised_against or step.advice):
            continue
        parts.append(f"<h3>{e(step.title)}</h3><ul>")
        parts += [f"<li>{e(x)}</li>" for x in step.advice[:4]]
        for item in step.items[:10]:
            alert = (
                f" <strong class='against'>⚠ {e('; '.join(item.alerts))}</strong>"
                if item.alerts
                else ""
            )
            parts.append(f"<li>{e(item.name)} — {e(item.verdict.replace('_', ' '))} "
                         f"<span class='small'>({e(item.verdict_text)})</span>{alert}</li>")  # fmt: skip
        for item in step.advised_against:
            parts.append(f"<li class='against'>Not recommended: {e(item.name)} "
                         f"<span class='small'>({e(item.verdict_text)})</span></li>")  # fmt: skip
        parts.append("</ul>")
    if a.plan.referral_criteria:
        parts.append("<h3>Referral criteria</h3><ul>")
        parts += [f"<li>{e(c)}</li>" for c in a.plan.referral_criteria]
        parts.append("</ul>")
    if a.medication_alerts:
        parts.append("<h2>Medication alerts</h2><ul>")
        for al in a.medication_alerts:
            parts.append(f"<li><strong>{e(str(al.get('severity')))}</strong>: {e(str(al.get('message')))} "
                         f"— {e(str(al.get('action')))}</li>")  # fmt: skip
        parts.append("</ul>")
    parts.append(f"<p class='disclaimer'>{e(a.disclaimer)}<br>Knowledge base {e(a.kb_version)}; "
                 f"assessment {e(a.id)}.</p></body></html>")  # fmt: skip
    return "".join(parts)

"""Pipes of the imaging-report reader (one job each), run in order by text/imaging.py.

vocab (phrase tagging, spelling tolerance) -> levels (level runs, headings) -> mentions (finding
phrases and their modifiers) -> modifiers (side, zone, grade) -> roots (exiting/traversing from
the knowledge base) -> attribution (level heading, carried level, pronouns) -> reconcile
(findings vs impression).
"""

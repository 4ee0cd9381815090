"""Shared by the benchmarks' medspaCy peers: how our context categories map onto ConText's."""

from __future__ import annotations

# our cue category (vocabulary/en/context.yaml, clinical.yaml) → medspaCy ConTextRule category
CONTEXT_CATEGORY = {
    "negated": "NEGATED_EXISTENCE",
    "uncertain": "POSSIBLE_EXISTENCE",
    "historical": "HISTORICAL",
    "family": "FAMILY",
    "hypothetical": "HYPOTHETICAL",
    "terminate": "TERMINATE",
    "pseudo": "PSEUDO",
}

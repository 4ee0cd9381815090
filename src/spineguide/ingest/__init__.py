"""Article ingestion: parse seed-template articles, report coverage and contradictions.

* ``template``: article text → sections → items with provenance (``ingest_file``,
  ``parse_article``);
* ``coverage``: match ingested items to knowledge-base entries field by field;
* ``contradictions``: where articles, labels and guidelines disagree.
"""

from __future__ import annotations

from spineguide.ingest.template import (
    MAX_ARTICLE_BYTES,
    IngestedArticle,
    Item,
    ItemFields,
    Section,
    ingest_file,
    ingest_paths,
    parse_article,
)

__all__ = [
    "MAX_ARTICLE_BYTES",
    "IngestedArticle",
    "Item",
    "ItemFields",
    "Section",
    "ingest_file",
    "ingest_paths",
    "parse_article",
]

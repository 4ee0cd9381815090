"""SpineGuide: evidence-linked clinical knowledge and decision support for lumbar spine conditions.

Output supports, and does not replace, the judgement of a qualified clinician.
"""

__version__ = "0.1.0"

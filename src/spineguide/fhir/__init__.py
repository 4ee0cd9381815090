"""FHIR R4 (read with fhir.resources.R4B models) to SpineGuide evidence and case input."""

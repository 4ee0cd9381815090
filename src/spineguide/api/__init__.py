"""HTTP faces: the REST API under /api/v1 and the CDS Hooks 2.0 service under /cds-services."""

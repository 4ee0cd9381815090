"""SpineGuide web app (served by the API app)."""

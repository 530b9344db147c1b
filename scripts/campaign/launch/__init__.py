"""Launch readiness: `campaign doctor`, is this campaign ready to launch? (ARCHITECTURE.md,
"Readiness (doctor)").

The layer above the capabilities: the doctor reads the mail backend, the forge, the routes, the
dispatch plan and the site build, which may not import each other. Nothing but the CLI imports it.
"""

CHECKS = ("data", "sender", "urls", "smtp", "key", "github", "routes", "verified", "letters", "site", "plan")
"""Every check of `campaign doctor`, in the order they are reported (`--skip NAME` leaves one out)."""

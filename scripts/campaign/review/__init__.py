"""Pull-request rules and the incremental pull-request check.

See ARCHITECTURE.md.
"""

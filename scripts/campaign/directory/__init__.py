"""The mission directory: built from sources, refreshed from GOV.UK, checked.

See ARCHITECTURE.md.
"""

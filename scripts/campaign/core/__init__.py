"""The base every package builds on: the error family, atomic files, git, retry backoff.

See ARCHITECTURE.md.
"""

"""Sending the letters: planning, composing, throttling, the run, its report and checkpoints.

See ARCHITECTURE.md.
"""

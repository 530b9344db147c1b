"""What several capabilities read: the letter's text, routes to missions, the ledger, counters.

See ARCHITECTURE.md.
"""

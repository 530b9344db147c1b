"""The campaign site: pages generated from the data, and the MkDocs hooks over them.

See ARCHITECTURE.md.
"""

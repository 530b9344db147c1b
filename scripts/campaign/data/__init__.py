"""The campaign's data: strict YAML, the models, the validated Dataset and its rules.

See ARCHITECTURE.md.
"""

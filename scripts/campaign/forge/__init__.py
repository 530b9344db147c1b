"""Where pull requests are opened: a local git branch or GitHub's REST API.

See ARCHITECTURE.md.
"""

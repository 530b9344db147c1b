"""Test helpers, used by the tests and the benchmarks; never installed with the package.

- `builders`: throw-away campaign repositories, files, git, the CLI;
- `dispatch`: signatures, settings and the ledger of a dispatch test, the CLI as a process;
- `smtp`: a real SMTP server (aiosmtpd) on loopback with scripted replies;
- `github`: a recorded fake of GitHub's REST API (the one outside service that cannot be reached);
- `http`: an ASGI app in a thread, confirmation links from an outbox, raw POSTs.
"""

"""The interface in every language: gettext catalogues (`locale/<lang>/LC_MESSAGES/messages.po`)
compiled at build time with Babel, and the translators' workflow (ARCHITECTURE.md, "Languages").

Layer 3, beside records, mail and forge: the site, the intake and dispatch all speak the
signer's language, and none of them may import another.
"""

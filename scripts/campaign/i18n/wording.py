"""Sentences the campaign says in several places, one message each, so that every place says the
same thing and a translator translates it once (ARCHITECTURE.md, "Privacy").

`KEPT`, what happens to a signer's email address, is said by the form (under the email field), the
privacy page (`<!-- campaign:kept -->`), the confirmation mail and the intake's confirm and
thank-you pages. Change what the intake keeps, and this sentence changes with it.
"""

from __future__ import annotations

from campaign.data.locales import N_

KEPT = N_("Your email address is used only to send you one message: the confirmation link, or a notice if it "
          "has already signed. It is deleted as soon as that message has gone out, and it is never published or "
          "stored in the campaign's repository; only if you ask for a report on the delivery is it kept, sealed so "
          "that only the organisers can open it, until a date fixed in advance. What stays in the repository is a "
          "keyed fingerprint of it (a one-way code made with a secret key), which cannot be turned back into the "
          "address and only stops the same address signing twice.")
"""What is kept of a signer's email address."""

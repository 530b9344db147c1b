"""`python -m campaign`: the `campaign` command."""

from campaign.cli import main

main()

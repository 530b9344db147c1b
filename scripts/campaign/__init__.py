"""An open-letter campaign run from a Git repository.

The library holds all logic; `campaign.cli` is a thin click layer over it and the MkDocs
layer only renders what the library loads.
"""

"""Placeholder (CSV importer follows)."""


def import_csv(text: str):
    raise NotImplementedError

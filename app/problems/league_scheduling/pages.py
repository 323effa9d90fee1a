"""Placeholder."""


def page_context(inp, result, query):
    return {}


def games_csv(inp, result):
    return ""


def league_ics(inp, result):
    return b""

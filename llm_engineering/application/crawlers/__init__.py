"""Crawlers: one per source, chosen by a dispatcher keyed by domain; outside I/O goes through ports."""

"""The SQL scripts, shipped in the wheel as package data.

Read them with ``importlib.resources.files("sql")`` (``data/mysql/database.py`` does), never
through a path next to the source tree: an installed wheel has no source tree.
"""

"""Hostile input: each test documents, in its docstring, what keyscan does."""

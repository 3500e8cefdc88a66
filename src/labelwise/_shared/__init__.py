"""The layer every room shares: JSON conversion, Markdown and number formatting, charts, progress.

Nothing here knows about labels, monitors or cards; the rooms (``issues``, ``monitor``, ``card``,
``study``, ``learn``, ``vision``) and the shells (``cli``, the dashboard) import from it, never the
other way round. It is private: its names may change between releases.
"""

"""`make demo`: Holdfast against the bundled Discord emulator, seen through a small local page.

The emulator (tests/emulator/) plays Discord with a realistic server; the real bot runs as a
separate process against it; the page (demo/page.py, demo/static/) shows the server as one
person sees it and lets you act as them. Nothing here is imported by the bot.
"""

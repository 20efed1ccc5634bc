"""Noting who came, for groups that choose it, and the "we missed you" it makes possible."""

"""Groups: a server's support groups, who belongs to them, and who may do what."""

"""Notes pages, split by subdomain."""

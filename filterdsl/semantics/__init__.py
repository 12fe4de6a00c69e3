"""The SPEC rules that several backends need, written once: paths (SPEC 4), sort order (SPEC 8),
search text, calendar days. Backends build their own expressions from these."""

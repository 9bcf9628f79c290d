"""The per-lead nurture graph: one durable thread per lead."""

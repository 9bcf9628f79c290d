"""The outbox: touches go out once each, after the send-time guardrails, by SMTP, file or task."""

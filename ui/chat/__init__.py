"""The web chat (Chainlit) for marketers, managers and SDRs, mounted on `nurture serve` at /chat."""

"""The chat agent for marketers and managers: the nurture tools plus analytics and sequences."""

"""AI triage and reply drafts: an OpenAI-compatible model when configured, a trained offline model always."""

"""Reports: render one immutable Diagnosis as text (rich), JSON, Markdown, HTML or Slack, all in
the one order `outline` gives, with evidence text made safe by `safe`."""

FORMATS = ("text", "json", "markdown", "html", "slack")

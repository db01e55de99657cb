"""Reports: render one immutable Diagnosis as text (rich), JSON, Markdown or HTML."""

FORMATS = ("text", "json", "markdown", "html")

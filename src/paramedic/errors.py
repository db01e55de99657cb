"""Every exception paramedic raises on purpose, in one tree.

    ParamedicError                 base: carries one human line, never a traceback
    ├── InputError                 the user gave us something we cannot use (exit 2)
    │   ├── BundleError            an evidence bundle or file is unreadable or malformed
    │   ├── IncidentError          SRC/DST/port cannot be resolved against the evidence
    │   └── RunbookError           a runbook file is invalid
    └── GatherError                talking to the outside world failed as a whole
        └── KubeAccessError        no usable kubeconfig / API server for a live run

    ParamedicWarning               something the user should know, shown once as one line
                                   ("TLS verification is off for this context"); warnings of
                                   third-party libraries are never shown

Third-party exceptions (YAML, Kubernetes client, psycopg, dnspython) are translated into
these at exactly one boundary per adapter with ``raise ... from exc``. Failures of single
calls during gathering are *not* exceptions: they become evidence (see evidence.model).
"""


class ParamedicError(Exception):
    """Base class: str(error) is the one line shown to the user."""


class InputError(ParamedicError):
    """Bad user input: the CLI exits with status 2."""


class BundleError(InputError):
    """An evidence bundle (or a single objects file) cannot be loaded."""


class IncidentError(InputError):
    """The incident (source, target, port) does not resolve against the evidence."""


class RunbookError(InputError):
    """A runbook file is invalid."""


class GatherError(ParamedicError):
    """Gathering from a live system failed as a whole (not a single call)."""


class KubeAccessError(GatherError):
    """No usable Kubernetes configuration or API server."""


class ParamedicWarning(UserWarning):
    """A warning of our own: the CLI prints it once as one line on stderr."""

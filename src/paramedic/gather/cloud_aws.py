"""`--cloud aws`: read the network rules with boto3, read-only, as `cloud/aws/*.json` documents.

The same Describe* responses a user would save with the AWS CLI (docs/CLOUD.md), through boto3's
default credential chain (environment, profile, SSO, the node's or pod's role) and region. Every
call is bounded: botocore's connect and read timeouts come from --timeout, retries are limited,
and once the endpoint has not answered the remaining calls are skipped. Nothing here raises for
an AWS problem: no credentials, a denied action (named as the IAM action to grant) or a timeout
becomes a gap line, and the diagnosis goes on without those rules.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import threading
import time
from typing import Any

from paramedic import errors, timeouts
from paramedic.evidence import cloud_files
from paramedic.evidence import model as evidence_model


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    service: str
    operation: str
    """The boto3 method (describe_security_groups)."""
    action: str
    """The IAM action it needs (ec2:DescribeSecurityGroups)."""
    key: str
    """The list in the response (SecurityGroups)."""
    file: str


CALLS = (
    Call(
        service="ec2",
        operation="describe_security_groups",
        action="ec2:DescribeSecurityGroups",
        key="SecurityGroups",
        file="security-groups",
    ),
    Call(
        service="ec2",
        operation="describe_network_interfaces",
        action="ec2:DescribeNetworkInterfaces",
        key="NetworkInterfaces",
        file="network-interfaces",
    ),
    Call(
        service="ec2",
        operation="describe_network_acls",
        action="ec2:DescribeNetworkAcls",
        key="NetworkAcls",
        file="network-acls",
    ),
    Call(
        service="ec2",
        operation="describe_instances",
        action="ec2:DescribeInstances",
        key="Reservations",
        file="instances",
    ),
    Call(
        service="ec2",
        operation="describe_nat_gateways",
        action="ec2:DescribeNatGateways",
        key="NatGateways",
        file="nat-gateways",
    ),
    Call(
        service="ec2",
        operation="describe_prefix_lists",
        action="ec2:DescribePrefixLists",
        key="PrefixLists",
        file="prefix-lists",
    ),
    Call(
        service="rds",
        operation="describe_db_instances",
        action="rds:DescribeDBInstances",
        key="DBInstances",
        file="db-instances",
    ),
)
ENTRIES_ACTION = "ec2:GetManagedPrefixListEntries"
ACTIONS = (*(c.action for c in CALLS), ENTRIES_ACTION)
"""Every IAM action the live path uses (docs/CLOUD.md lists them as a policy)."""
_DENIED = {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess"}
_BAD_CREDENTIALS = {
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "RequestExpired",
    "UnrecognizedClientException",
}


def require() -> None:
    """InputError (exit 2) when the AWS SDK is not installed."""
    if importlib.util.find_spec("boto3") is None:
        raise errors.InputError("--cloud aws needs the AWS SDK: pip install 'paramedic[aws]'")


def gather(limits: timeouts.Timeouts) -> tuple[list[evidence_model.CloudDocument], list[str]]:
    """The documents that could be read, and a gap line for everything that could not, within
    --timeout: the reading runs in a daemon thread that is left behind (its own botocore timeouts
    end it soon after) when the deadline comes first."""
    require()
    docs: list[evidence_model.CloudDocument] = []
    gaps: list[str] = []
    done = threading.Event()

    def work() -> None:
        try:
            _read(limits, docs, gaps)
        finally:
            done.set()

    threading.Thread(target=work, name="paramedic-aws", daemon=True).start()
    if not done.wait(limits.total):
        # What was read so far counts; the thread's later results are not looked at.
        return list(docs), [*gaps, f"AWS: reading stopped at --timeout {limits.total:g}s"]
    return docs, gaps


def _read(
    limits: timeouts.Timeouts, docs: list[evidence_model.CloudDocument], gaps: list[str]
) -> None:
    """Read every response into `docs` and every problem into `gaps`, as they happen."""
    import boto3
    import botocore.config
    import botocore.exceptions as boto_errors

    deadline = time.monotonic() + limits.total
    per_call = max(min(limits.request, limits.total / 4), 0.5)
    config = botocore.config.Config(
        connect_timeout=per_call,
        read_timeout=per_call,
        retries={"total_max_attempts": 2, "mode": "standard"},
    )
    session = _session(boto3)
    if session.region_name is None:
        gaps.append(
            "AWS: no region configured (AWS_REGION or the profile's region): the cloud "
            "rules were not read"
        )
        return
    clients: dict[str, Any] = {}
    silent: set[str] = set()
    for call in CALLS:
        if call.service in silent:
            gaps.append(f"AWS {call.action}: not tried, the {call.service} endpoint did not answer")
            continue
        if time.monotonic() >= deadline:
            gaps.append(f"AWS {call.action}: not tried, --timeout {limits.total:g}s reached")
            continue
        try:
            client = clients.get(call.service) or session.client(call.service, config=config)
            clients[call.service] = client
            body = _paginate(client, call.operation, call.key, deadline)
        except boto_errors.NoCredentialsError:
            gaps.append(
                "AWS: no credentials in the default chain (environment, profile, SSO, instance "
                "or pod role): the cloud rules were not read; the live path needs read-only "
                + ", ".join(ACTIONS)
            )
            return
        except boto_errors.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _BAD_CREDENTIALS:
                gaps.append(
                    f"AWS: the credentials were refused ({code}): the cloud rules were not read"
                )
                return
            if code in _DENIED:
                what = call.file.replace("-", " ")
                gaps.append(f"AWS denied {call.action} ({code}): grant it to read the {what}")
            else:
                gaps.append(f"AWS {call.action}: {code or 'error'}: {_one_line(exc)}")
            continue
        except (
            boto_errors.ConnectTimeoutError,
            boto_errors.ReadTimeoutError,
            boto_errors.EndpointConnectionError,
            boto_errors.ConnectionClosedError,
        ) as exc:
            silent.add(call.service)
            gaps.append(f"AWS {call.action}: no answer within {per_call:g}s ({type(exc).__name__})")
            continue
        except boto_errors.BotoCoreError as exc:
            gaps.append(f"AWS {call.action}: {_one_line(exc)}")
            continue
        try:
            docs.append(_document(call.file, body))
        except errors.BundleError as exc:
            gaps.append(f"AWS {call.action}: unexpected response: {exc}")
            continue
        if call.key == "SecurityGroups":
            docs += _entries(client, body, deadline, gaps, boto_errors)


_loader: list[Any] = []
"""botocore's data loader of the first session, shared by every later one (_session)."""
_loader_lock = threading.Lock()


def _session(boto3: Any) -> Any:
    """A new boto3 session: credentials, region and endpoint as the environment says now. Only
    botocore's data loader is shared between sessions, so the service models (the EC2 one is
    megabytes of JSON) are parsed once per process, not per gathering (0.3 s of CPU each)."""
    import botocore.session

    with _loader_lock:
        core = botocore.session.Session()
        if _loader:
            core.register_component("data_loader", _loader[0])
        else:
            _loader.append(core.get_component("data_loader"))
        session = boto3.session.Session(botocore_session=core)
        paths = _loader[0].search_paths  # boto3 appends its own data directory per session
        paths[:] = list(dict.fromkeys(paths))
    return session


def _paginate(client: Any, operation: str, key: str, deadline: float) -> dict[str, Any]:
    items: list[Any] = []
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate():
            items += page.get(key) or []
            if time.monotonic() >= deadline:
                break
    else:
        items = getattr(client, operation)().get(key) or []
    return {key: items}


def _entries(
    client: Any, groups: dict[str, Any], deadline: float, gaps: list[str], boto_errors: Any
) -> list[evidence_model.CloudDocument]:
    """The entries of every customer-managed prefix list a security group rule references."""
    ids = sorted(
        {
            str(ref.get("PrefixListId"))
            for g in groups.get("SecurityGroups") or []
            for perm in (g.get("IpPermissions") or []) + (g.get("IpPermissionsEgress") or [])
            for ref in perm.get("PrefixListIds") or []
        }
    )
    docs = []
    for pl in ids:
        if time.monotonic() >= deadline:
            gaps.append(f"AWS {ENTRIES_ACTION} {pl}: not tried, --timeout reached")
            continue
        try:
            entries = client.get_managed_prefix_list_entries(PrefixListId=pl).get("Entries") or []
        except boto_errors.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("InvalidPrefixListId.NotFound", "InvalidPrefixListID.NotFound"):
                gaps.append(f"AWS denied {ENTRIES_ACTION} for {pl} ({code})")
            continue  # an AWS-managed list: describe_prefix_lists has its CIDRs
        except boto_errors.BotoCoreError as exc:
            gaps.append(f"AWS {ENTRIES_ACTION} {pl}: {_one_line(exc)}")
            continue
        try:
            docs.append(_document(pl, {"Entries": entries}))
        except errors.BundleError as exc:
            gaps.append(f"AWS {ENTRIES_ACTION} {pl}: unexpected response: {exc}")
    return docs


def _document(name: str, body: dict[str, Any]) -> evidence_model.CloudDocument:
    """The response as the CLI would print it, through the same reader as a bundle's file."""
    rel = f"cloud/aws/{name}.json"
    data = json.dumps(body, default=_json_default).encode()
    return cloud_files.parse("aws", rel, data, where=f"AWS response {rel}")


def _json_default(value: Any) -> str:
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def _one_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]

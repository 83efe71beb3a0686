"""A loopback Azure Resource Manager: HTTPS on 127.0.0.1, JSON shaped like the ARM REST API.

No public emulator exists for ARM, so the tests (and ``bench/bench_azure.py``) serve the
calls the collector makes from an :class:`ArmEstate` built in code: ``nextLink`` paging,
``429`` with ``Retry-After``, ``403 AuthorizationFailed`` on a subscription, ``409
MissingSubscriptionRegistration`` on a namespace, an optional latency per call, a request
held unanswered until the test releases it (a worker killed mid-call). The real
azure-mgmt clients run their whole pipeline against it; the TLS certificate is generated at
start and handed to the transport as its CA bundle. Every request is logged.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AccessToken

_SUB = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
_NAMESPACE = re.compile(r"/providers/([^/]+)", re.IGNORECASE)

TENANT = "7d2c5a1e-0000-4000-8000-00000000aaaa"


class StaticCredential:
    """A TokenCredential that always has a token: the tests' identity."""

    def __init__(self, token: str = "loopback-test-token") -> None:
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


def arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@dataclass
class ArmEstate:
    """What the server serves: routes (lower-case path -> collection list or object)."""

    tenant: str = TENANT
    data_boundary: str | None = "EU"
    routes: dict[str, Any] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    unregistered: dict[tuple[str, str], str] = field(default_factory=dict)
    throttle: dict[str, int] = field(default_factory=dict)
    retry_after: str = "0.3"
    faults: dict[str, tuple[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.routes["/subscriptions"] = []
        if self.data_boundary is not None:
            self.routes["/providers/microsoft.resources/databoundaries/default"] = {
                "id": "/providers/Microsoft.Resources/dataBoundaries/default",
                "name": "default",
                "type": "Microsoft.Resources/dataBoundaries",
                "properties": {
                    "dataBoundary": self.data_boundary,
                    "provisioningState": "Succeeded",
                },
            }

    # -- building ------------------------------------------------------------------------------

    def put(self, path: str, value: Any) -> None:
        self.routes[path.lower()] = value

    def collection(self, path: str) -> list[dict[str, Any]]:
        found = self.routes.setdefault(path.lower(), [])
        assert isinstance(found, list)
        return found

    def subscription(self, sub: str, name: str) -> None:
        entry = {
            "id": f"/subscriptions/{sub}",
            "subscriptionId": sub,
            "tenantId": self.tenant,
            "displayName": name,
            "state": "Enabled",
            "authorizationSource": "RoleBased",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "spendingLimit": "Off",
            },
        }
        self.collection("/subscriptions").append(entry)
        self.put(f"/subscriptions/{sub}", entry)
        for path in (
            "resources",
            "resourcegroups",
            "providers/Microsoft.Storage/storageAccounts",
            "providers/Microsoft.Compute/disks",
            "providers/Microsoft.Compute/snapshots",
            "providers/Microsoft.Compute/diskEncryptionSets",
            "providers/Microsoft.Compute/virtualMachineScaleSets",
            "providers/Microsoft.Cache/redis",
            "providers/Microsoft.ContainerService/managedClusters",
            "providers/Microsoft.Sql/servers",
            "providers/Microsoft.DBforPostgreSQL/flexibleServers",
            "providers/Microsoft.DBforMySQL/flexibleServers",
            "providers/Microsoft.DocumentDB/databaseAccounts",
            "providers/Microsoft.KeyVault/vaults",
            "providers/Microsoft.RecoveryServices/vaults",
            "providers/Microsoft.DataProtection/backupVaults",
        ):
            self.collection(f"/subscriptions/{sub}/{path}")

    def resource_group(self, sub: str, rg: str, location: str) -> None:
        self.collection(f"/subscriptions/{sub}/resourcegroups").append(
            {
                "id": f"/subscriptions/{sub}/resourceGroups/{rg}",
                "name": rg,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "properties": {"provisioningState": "Succeeded"},
            }
        )

    def generic(
        self, sub: str, rg: str, arm_type: str, name: str, location: str, **extra: Any
    ) -> str:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{arm_type}/{name}"
        if arm_type.count("/") > 1:  # child type: Microsoft.Sql/servers/databases -> s/db
            namespace, *kinds = arm_type.split("/")
            parts = name.split("/")
            rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/" + "/".join(
                f"{k}/{n}" for k, n in zip(kinds, parts, strict=True)
            )
        entry = {"id": rid, "name": name, "type": arm_type, "location": location, **extra}
        self.collection(f"/subscriptions/{sub}/resources").append(entry)
        return rid

    def tracked(
        self, sub: str, rg: str, arm_type: str, name: str, location: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A resource in the inventory and in its service's subscription-level listing."""
        namespace, kind = arm_type.split("/", 1)
        rid = self.generic(
            sub, rg, arm_type, name, location, **({"sku": body["sku"]} if "sku" in body else {})
        )
        item = {"id": rid, "name": name, "type": arm_type, "location": location, **body}
        self.collection(f"/subscriptions/{sub}/providers/{namespace}/{kind}").append(item)
        return item

    def storage(
        self,
        sub: str,
        rg: str,
        name: str,
        location: str,
        sku: str = "Standard_LRS",
        key_vault: str | None = None,
        secondary: str | None = None,
        object_replication_to: str | None = None,
    ) -> str:
        encryption: dict[str, Any] = {
            "keySource": "Microsoft.Keyvault" if key_vault else "Microsoft.Storage",
            "requireInfrastructureEncryption": False,
            "services": {"blob": {"enabled": True, "keyType": "Account"}},
        }
        if key_vault:
            encryption["keyvaultproperties"] = {"keyname": "hds", "keyvaulturi": key_vault}
        properties: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "encryption": encryption,
        }
        if secondary:
            properties["secondaryLocation"] = secondary
            properties["statusOfSecondary"] = "available"
        item = self.tracked(
            sub,
            rg,
            "Microsoft.Storage/storageAccounts",
            name,
            location,
            {
                "kind": "StorageV2",
                "sku": {"name": sku, "tier": "Standard"},
                "properties": properties,
            },
        )
        policies = self.collection(f"{item['id']}/objectReplicationPolicies")
        if object_replication_to:
            policies.append(
                {
                    "id": f"{item['id']}/objectReplicationPolicies/p1",
                    "name": "p1",
                    "type": "Microsoft.Storage/storageAccounts/objectReplicationPolicies",
                    "properties": {
                        "policyId": "p1",
                        "sourceAccount": item["id"],
                        "destinationAccount": object_replication_to,
                        "rules": [
                            {"ruleId": "r1", "sourceContainer": "a", "destinationContainer": "b"}
                        ],
                    },
                }
            )
        return str(item["id"])

    def disk(self, sub: str, rg: str, name: str, location: str, des: str | None = None) -> str:
        encryption: dict[str, Any] = {"type": "EncryptionAtRestWithPlatformKey"}
        if des:
            encryption = {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des}
        item = self.tracked(
            sub,
            rg,
            "Microsoft.Compute/disks",
            name,
            location,
            {
                "sku": {"name": "Premium_LRS", "tier": "Premium"},
                "properties": {
                    "diskSizeGB": 128,
                    "encryption": encryption,
                    "diskState": "Attached",
                },
            },
        )
        return str(item["id"])

    def scale_set(
        self,
        sub: str,
        rg: str,
        name: str,
        location: str,
        des: str | None = None,
        data_luns: tuple[int, ...] = (),
        encryption_at_host: bool | None = None,
    ) -> str:
        """A VM scale set whose instances get an OS disk and ``data_luns`` data disks."""
        managed: dict[str, Any] = {"storageAccountType": "Premium_LRS"}
        if des:
            managed["diskEncryptionSet"] = {"id": des}
        profile: dict[str, Any] = {
            "storageProfile": {
                "osDisk": {
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": managed,
                },
                "dataDisks": [
                    {"lun": lun, "createOption": "Empty", "diskSizeGB": 64, "managedDisk": managed}
                    for lun in data_luns
                ],
            }
        }
        if encryption_at_host is not None:
            profile["securityProfile"] = {"encryptionAtHost": encryption_at_host}
        item = self.tracked(
            sub,
            rg,
            "Microsoft.Compute/virtualMachineScaleSets",
            name,
            location,
            {
                "sku": {"name": "Standard_D2s_v5", "tier": "Standard", "capacity": 2},
                "properties": {"virtualMachineProfile": profile, "provisioningState": "Succeeded"},
            },
        )
        return str(item["id"])

    def redis(self, sub: str, rg: str, name: str, location: str, linked: str | None = None) -> str:
        properties: dict[str, Any] = {
            "sku": {"name": "Premium", "family": "P", "capacity": 1},
            "provisioningState": "Succeeded",
            "enableNonSslPort": False,
            "minimumTlsVersion": "1.2",
        }
        if linked:
            properties["linkedServers"] = [{"id": linked}]
        item = self.tracked(
            sub, rg, "Microsoft.Cache/redis", name, location, {"properties": properties}
        )
        return str(item["id"])

    def aks(
        self,
        sub: str,
        rg: str,
        name: str,
        location: str,
        des: str | None = None,
        pools: dict[str, bool | None] | None = None,
    ) -> str:
        """A managed cluster; ``pools`` maps each agent pool to its encryption at host."""
        profiles = []
        for pool, at_host in (pools or {"system": None}).items():
            profile: dict[str, Any] = {
                "name": pool,
                "count": 2,
                "vmSize": "Standard_D4s_v5",
                "mode": "System",
            }
            if at_host is not None:
                profile["enableEncryptionAtHost"] = at_host
            profiles.append(profile)
        properties: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "kubernetesVersion": "1.30.0",
            "dnsPrefix": name,
            "agentPoolProfiles": profiles,
        }
        if des:
            properties["diskEncryptionSetID"] = des
        item = self.tracked(
            sub,
            rg,
            "Microsoft.ContainerService/managedClusters",
            name,
            location,
            {"properties": properties},
        )
        return str(item["id"])

    def sql_server(
        self, sub: str, rg: str, name: str, location: str, key_uri: str | None = None
    ) -> str:
        item = self.tracked(
            sub,
            rg,
            "Microsoft.Sql/servers",
            name,
            location,
            {"kind": "v12.0", "properties": {"version": "12.0", "state": "Ready"}},
        )
        rid = str(item["id"])
        protector = {
            "id": f"{rid}/encryptionProtector/current",
            "name": "current",
            "type": "Microsoft.Sql/servers/encryptionProtector",
            "kind": "azurekeyvault" if key_uri else "servicemanaged",
            "properties": {
                "serverKeyName": "hds_key" if key_uri else "ServiceManaged",
                "serverKeyType": "AzureKeyVault" if key_uri else "ServiceManaged",
                **({"uri": key_uri} if key_uri else {}),
            },
        }
        self.collection(f"{rid}/encryptionProtector").append(protector)
        self.collection(f"{rid}/replicationLinks")
        self.collection(f"{rid}/failoverGroups")
        self.collection(f"{rid}/databases")
        self.sql_database(sub, rg, name, "master", location, system=True)
        return rid

    def sql_database(
        self,
        sub: str,
        rg: str,
        server: str,
        name: str,
        location: str,
        redundancy: str = "Local",
        tde: str = "Enabled",
        partner: tuple[str, str] | None = None,
        system: bool = False,
    ) -> str:
        server_id = (
            f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}"
        )
        rid = f"{server_id}/databases/{name}"
        item = {
            "id": rid,
            "name": name,
            "type": "Microsoft.Sql/servers/databases",
            "location": location,
            "kind": "v12.0,system" if system else "v12.0,user",
            "sku": {"name": "GP_Gen5", "tier": "GeneralPurpose"},
            "properties": {
                "status": "Online",
                "currentBackupStorageRedundancy": redundancy,
                "requestedBackupStorageRedundancy": redundancy,
            },
        }
        self.collection(f"{server_id}/databases").append(item)
        if not system:
            self.generic(sub, rg, "Microsoft.Sql/servers/databases", f"{server}/{name}", location)
            self.collection(f"{rid}/transparentDataEncryption").append(
                {
                    "id": f"{rid}/transparentDataEncryption/Current",
                    "name": "Current",
                    "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
                    "properties": {"state": tde},
                }
            )
        if partner:
            partner_server, partner_location = partner
            self.collection(f"{server_id}/replicationLinks").append(
                {
                    "id": f"{rid}/replicationLinks/5b4b3b2a-0000-4000-8000-000000000001",
                    "name": "5b4b3b2a-0000-4000-8000-000000000001",
                    "type": "Microsoft.Sql/servers/databases/replicationLinks",
                    "properties": {
                        "partnerServer": partner_server,
                        "partnerDatabase": name,
                        "partnerLocation": partner_location,
                        "role": "Primary",
                        "partnerRole": "Secondary",
                        "replicationMode": "ASYNC",
                        "linkType": "GEO",
                        "replicationState": "CATCH_UP",
                    },
                }
            )
        return rid

    def cosmos(
        self,
        sub: str,
        rg: str,
        name: str,
        location: str,
        regions: list[str],
        key_uri: str | None = None,
    ) -> str:
        properties: dict[str, Any] = {
            "databaseAccountOfferType": "Standard",
            "locations": [
                {"locationName": region, "failoverPriority": i, "isZoneRedundant": False}
                for i, region in enumerate(regions)
            ],
            "backupPolicy": {
                "type": "Continuous",
                "continuousModeProperties": {"tier": "Continuous7Days"},
            },
        }
        if key_uri:
            properties["keyVaultKeyUri"] = key_uri
        item = self.tracked(
            sub,
            rg,
            "Microsoft.DocumentDB/databaseAccounts",
            name,
            location,
            {"kind": "GlobalDocumentDB", "properties": properties},
        )
        return str(item["id"])

    def key_vault(self, sub: str, rg: str, name: str, location: str) -> str:
        item = self.tracked(
            sub,
            rg,
            "Microsoft.KeyVault/vaults",
            name,
            location,
            {"properties": {"tenantId": self.tenant, "sku": {"family": "A", "name": "premium"}}},
        )
        return str(item["id"])

    def flexible_server(
        self,
        sub: str,
        rg: str,
        name: str,
        location: str,
        engine: str = "postgresql",
        geo_backup: bool = False,
        key_uri: str | None = None,
    ) -> str:
        arm_type = (
            "Microsoft.DBforPostgreSQL/flexibleServers"
            if engine == "postgresql"
            else "Microsoft.DBforMySQL/flexibleServers"
        )
        encryption: dict[str, Any] = {"type": "SystemManaged"}
        if key_uri:
            encryption = {"type": "AzureKeyVault", "primaryKeyURI": key_uri}
        item = self.tracked(
            sub,
            rg,
            arm_type,
            name,
            location,
            {
                "sku": {"name": "Standard_D2ds_v4", "tier": "GeneralPurpose"},
                "properties": {
                    "state": "Ready",
                    "backup": {
                        "backupRetentionDays": 7,
                        "geoRedundantBackup": "Enabled" if geo_backup else "Disabled",
                    },
                    "dataEncryption": encryption,
                },
            },
        )
        return str(item["id"])

    def recovery_vault(self, sub: str, rg: str, name: str, location: str, redundancy: str) -> str:
        item = self.tracked(
            sub,
            rg,
            "Microsoft.RecoveryServices/vaults",
            name,
            location,
            {
                "sku": {"name": "RS0", "tier": "Standard"},
                "properties": {
                    "provisioningState": "Succeeded",
                    "redundancySettings": {
                        "standardTierStorageRedundancy": redundancy,
                        "crossRegionRestore": "Disabled",
                    },
                },
            },
        )
        return str(item["id"])

    def backup_vault(self, sub: str, rg: str, name: str, location: str, redundancy: str) -> str:
        item = self.tracked(
            sub,
            rg,
            "Microsoft.DataProtection/backupVaults",
            name,
            location,
            {
                "properties": {
                    "provisioningState": "Succeeded",
                    "storageSettings": [{"datastoreType": "VaultStore", "type": redundancy}],
                },
            },
        )
        return str(item["id"])


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: str
    at: float
    status: int = 0
    authorized: bool = False
    token: str = ""


class ArmHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ArmServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", "loopback")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _log(self) -> LoggedRequest:
        parts = urlsplit(self.path)
        authorization = str(self.headers.get("Authorization", ""))
        entry = LoggedRequest(
            self.command,
            parts.path,
            parts.query,
            time.monotonic(),
            authorized=authorization.startswith("Bearer "),
            token=authorization.removeprefix("Bearer ").strip(),
        )
        with self.server.lock:
            self.server.log.append(entry)
        return entry

    def do_GET(self) -> None:
        entry = self._log()
        server = self.server
        if server.take_hold(entry.path):
            server.held.set()
            server.release.wait(server.hold_timeout)
        with server.lock:
            server.active += 1
            server.peak = max(server.peak, server.active)
        try:
            status, body, headers = server.answer(entry)
            entry.status = status
            if server.latency:
                time.sleep(server.latency)
        finally:
            with server.lock:
                server.active -= 1
        self._send(status, body, headers)

    def _refuse(self) -> None:
        entry = self._log()
        entry.status = 405
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(405, arm_error("MethodNotAllowed", "the loopback ARM server is read-only"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse


class ArmServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, estate: ArmEstate, context: ssl.SSLContext, latency: float = 0.0, page_size: int = 100
    ) -> None:
        super().__init__(("127.0.0.1", 0), ArmHandler)
        self.estate = estate
        self.context = context
        self.latency = latency
        self.page_size = page_size
        self.lock = threading.Lock()
        self.log: list[LoggedRequest] = []
        self.active = 0
        self.peak = 0
        self.holds: dict[str, int] = {}
        self.held = threading.Event()  # set when a held request has arrived
        self.release = threading.Event()  # set by the test: held requests are answered
        self.hold_timeout = 60.0

    def hold(self, path: str, times: int = 1) -> None:
        """Keep the next ``times`` requests for ``path`` unanswered until ``release`` is set."""
        with self.lock:
            self.holds[path.rstrip("/").lower()] = times

    def take_hold(self, path: str) -> bool:
        key = path.rstrip("/").lower()
        with self.lock:
            remaining = self.holds.get(key, 0)
            if remaining:
                self.holds[key] = remaining - 1
            return remaining > 0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone while its answer was held (a killed worker) is not an error here."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | ssl.SSLError | TimeoutError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        # TLS handshake in the connection's own thread, not in the accept loop.
        try:
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle and the
            # client's delayed ACK add ~40 ms to every answer.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)

    def answer(self, entry: LoggedRequest) -> tuple[int, Any, dict[str, str]]:
        estate = self.estate
        if not entry.authorized:
            return 401, arm_error("AuthenticationFailed", "Authentication failed."), {}
        path = entry.path.rstrip("/").lower()
        with self.lock:
            remaining = estate.throttle.get(path, 0)
            if remaining:
                estate.throttle[path] = remaining - 1
        if remaining:
            return (
                429,
                arm_error("TooManyRequests", "Too many requests, retry after a while."),
                {"Retry-After": estate.retry_after},
            )
        sub = _SUB.match(path)
        if sub and sub.group(1) in estate.forbidden:
            return (
                403,
                arm_error(
                    "AuthorizationFailed",
                    "The client 'hds-audit-test' with object id "
                    "'00000000-0000-0000-0000-000000000001' "
                    f"does not have authorization to perform action 'read' over scope "
                    f"'/subscriptions/{sub.group(1)}' or the scope is invalid.",
                ),
                {},
            )
        namespace = _NAMESPACE.search(path)
        if sub and namespace and (sub.group(1), namespace.group(1)) in estate.unregistered:
            original = estate.unregistered[(sub.group(1), namespace.group(1))]
            return (
                409,
                arm_error(
                    "MissingSubscriptionRegistration",
                    f"The subscription is not registered to use namespace '{original}'. "
                    "See https://aka.ms/rps-not-found for how to register subscriptions.",
                ),
                {},
            )
        fault = estate.faults.get(path)
        if fault is not None:
            status, code = fault
            return status, arm_error(code, f"fault planted on {entry.path}"), {}
        value = estate.routes.get(path)
        if value is None:
            return (
                404,
                arm_error("ResourceNotFound", f"The resource '{entry.path}' was not found."),
                {},
            )
        if isinstance(value, dict):
            return 200, value, {}
        query = parse_qs(entry.query)
        skip = int((query.get("$skiptoken") or ["0"])[0])
        page = value[skip : skip + self.page_size]
        body: dict[str, Any] = {"value": page}
        if skip + self.page_size < len(value):
            version = (query.get("api-version") or ["2025-01-01"])[0]
            body["nextLink"] = (
                f"{self.url}{entry.path}?api-version={version}&%24skiptoken={skip + self.page_size}"
            )
        return 200, body, {}

    def requests(self, method: str | None = None) -> list[LoggedRequest]:
        with self.lock:
            return [e for e in self.log if method is None or e.method == method]


def unregister(estate: ArmEstate, sub: str, namespace: str) -> None:
    """Serve 409 MissingSubscriptionRegistration for ``namespace`` in ``sub``."""
    estate.unregistered[(sub.lower(), namespace.lower())] = namespace


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost, made now (``cryptography``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hds-audit loopback ARM")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "loopback-arm.pem"
    key_path = directory / "loopback-arm.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def serve(
    estate: ArmEstate, latency: float = 0.0, page_size: int = 100
) -> Iterator[tuple[ArmServer, str]]:
    """Run the server in a thread; yields it and the CA bundle path for ``connection_verify``."""
    with tempfile.TemporaryDirectory(prefix="hds-arm-") as tmp:
        cert, key = self_signed(Path(tmp))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = ArmServer(estate, context, latency=latency, page_size=page_size)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield server, str(cert)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def serve_process(
    estate: ArmEstate, latency: float, page_size: int, ready: Any, directory: str
) -> None:
    """Entry point of a server in its own process (the benchmark: no GIL shared with the
    client). Puts ``(url, ca_path)`` on ``ready`` and serves until terminated."""
    cert, key = self_signed(Path(directory))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ArmServer(estate, context, latency=latency, page_size=page_size)
    ready.put((server.url, str(cert)))
    server.serve_forever(poll_interval=0.05)

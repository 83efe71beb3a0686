"""One (account, region, service) task's API calls, as its row of ``services.yaml`` declares.

List calls are paginated; per-item detail calls fan out to the environment's detail pool
(whose tasks never wait on anything, so a full pool cannot deadlock). A detail call refused
for one item leaves only what it feeds unknown on that item.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jmespath

from hds_audit.collectors.aws.keys import KeyResolver
from hds_audit.collectors.aws.normalise import Listed, TaskData, Unavailable
from hds_audit.collectors.aws.session import Account, Connector, classify, error_code
from hds_audit.collectors.aws.table import Call, ServiceSpec, render

# Failures of a detail call that concern one item only (others fail the whole task).
_PER_ITEM = frozenset({"access_denied", "throttled", "api_error"})


def fetch(
    connector: Connector,
    account: Account,
    region: str,
    spec: ServiceSpec,
    keys: KeyResolver,
    pool: ThreadPoolExecutor,
) -> TaskData:
    """Run the calls of ``spec`` in one account and region; raises what fails the task."""
    client = connector.client(account, region, spec.client)
    variables: dict[str, Any] = {"region": region, "account": account.id}
    data = TaskData()
    for call in spec.context:
        try:
            data.context[call.key] = _extract(_invoke(client, call, variables), call.path)
        except Exception as error:
            if not call.optional or isinstance(error, KeyError | TypeError):
                raise
            data.context[call.key] = Unavailable(f"{call.operation}: {classify(error)[1]}")
    for call in spec.lists:
        data.lists[call.key] = [Listed(item) for item in _paginate(client, call, variables)]
    first = spec.lists[0].key
    per_list: dict[str, list[Call]] = {}
    for detail in spec.details:
        per_list.setdefault(detail.of or first, []).append(detail)

    errors_lock = threading.Lock()

    def refused(listed: Listed, detail: Call, error: BaseException) -> None:
        """One item refused (a bucket policy, a key policy): what the call feeds is unknown
        on that resource; the other items are audited. Anything else fails the task."""
        kind, message = classify(error)
        if kind not in _PER_ITEM:
            raise error
        for feed in detail.feeds:
            listed.failures[feed] = f"{detail.operation}: {message}"
        with errors_lock:
            data.item_errors.append((listed.label(), kind, message))

    def describe(listed: Listed, details: list[Call]) -> None:
        """One item's detail calls, in order (a later one may depend on an earlier)."""
        item_vars = {**variables, "item": listed.item}
        for detail in details:
            if not _applies(detail, listed):
                continue
            if detail.cached == "kms_key":
                key_id = str(render(detail.params["KeyId"], item_vars))
                try:
                    listed.details[detail.key] = keys.metadata(account, region, key_id)
                except Exception as error:
                    refused(listed, detail, error)
                continue
            try:
                response = _invoke(client, detail, item_vars)
            except Exception as error:
                if error_code(error) in detail.absent:
                    listed.details[detail.key] = None
                else:
                    refused(listed, detail, error)
                continue
            listed.details[detail.key] = _extract(response, detail.path)

    futures = [
        pool.submit(describe, listed, details)
        for key, details in per_list.items()
        for listed in data.lists[key]
    ]
    failure: BaseException | None = None
    for future in futures:
        problem = future.exception()
        if failure is None:
            failure = problem
    if failure is not None:
        raise failure
    return data


def _method(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def _invoke(client: Any, call: Call, variables: dict[str, Any]) -> Any:
    params = {k: render(v, variables) for k, v in call.params.items()}
    return getattr(client, _method(call.operation))(**params)


def _paginate(client: Any, call: Call, variables: dict[str, Any]) -> Iterator[Any]:
    params = {k: render(v, variables) for k, v in call.params.items()}
    method = _method(call.operation)
    if client.can_paginate(method):
        pages: Any = client.get_paginator(method).paginate(**params)
    else:
        pages = [getattr(client, method)(**params)]
    for page in pages:
        yield from _extract(page, call.path) or ()


def _extract(response: Any, path: str | None) -> Any:
    if path is None:
        if isinstance(response, dict):
            return {k: v for k, v in response.items() if k != "ResponseMetadata"}
        return response
    return jmespath.search(path, response)


def _applies(call: Call, listed: Listed) -> bool:
    if not call.when:
        return True
    for path, expected in call.when.items():
        head, _, rest = path.partition(".")
        value: Any = listed.details.get(head)
        for part in rest.split(".") if rest else ():
            value = value.get(part) if isinstance(value, dict) else None
        if value != expected:
            return False
    return True

"""Property-based fuzzing of the running platform with schemathesis, over its live /openapi.json.

Every operation in the document runs with generated input, valid and invalid (schemathesis'
examples, its coverage phase's boundary values and random fuzzing, positive and negative
modes), as a registered user. Whatever the input:

* no response is a 5xx, and none takes longer than the client's timeout;
* every 4xx body is the error envelope `{code, message, error: {field, reason}}`;
* every documented body (the 2xx models, the error envelope) conforms to its schema.

Path ids are generated (so not-found paths and odd characters are fuzzed) or, for about two
cases in three, real ids of the fuzzing user's own drama, script, character, asset and task, so
the code behind the ownership checks sees fuzzed bodies and queries too. Nothing is excluded:

* DELETE keeps generated ids: deleting the fixture's drama mid-run would leave every later
  operation testing only its not-found path.
* Accepted work (a 202 with a task id: `/pipeline/render`, script and image generation) is
  cancelled as soon as it is accepted. The request path is what is under test here; a render of
  30 generated scenes would otherwise keep both CPUs busy for the rest of the session's tests.

The stateful phase (`test_linked_operations_reach_real_resources`) follows the document's
OpenAPI links from each create to its get, update and delete, under the same rules. The six
operations issue 8 found hiding constraints are also held to schemathesis' positive-data check:
input valid by their schema must be accepted.

Runs are reproducible: hypothesis is derandomized and has no example database. Set
`STORYREEL_FUZZ_EXAMPLES` for a longer local run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any, TypeAlias

import pytest
import requests
import schemathesis
from e2e_client import Api
from hypothesis import HealthCheck, settings
from owned_content import OwnedContent, create_owned_content
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    response_schema_conformance,
)

from storyreel_cli.platform_process import PlatformProcess

Case: TypeAlias = schemathesis.Case[Any]
MAX_EXAMPLES = int(os.environ.get("STORYREEL_FUZZ_EXAMPLES", "8"))
REQUEST_TIMEOUT_S = 15
# The suite's per-test limit (pytest-timeout) fits the default 8 examples; a longer local run
# (`STORYREEL_FUZZ_EXAMPLES=200`: 200 per operation, ~25 min on 2 cores) gets room to finish.
pytestmark = pytest.mark.timeout(max(600, MAX_EXAMPLES * 30))
# Issue 8: these rejected most data valid by their own schema. Their documents now state every
# constraint they enforce, and schema-valid input must be accepted (2xx, or 404/409/429 for
# state the schema cannot know: an unknown id, a stale set, too many tasks at once).
POSITIVE_CHECKED = {
    # Not POST /auth/register: its password policy (zxcvbn strength, NIST SP 800-63B) is not
    # expressible in JSON Schema, so schema-valid random passwords ("aaaaaaaa") are refused by
    # design; its username and email patterns are checked by test_input_guards instead.
    "POST /api/v1/dramas/{drama_id}/assets/generate",
    "POST /api/v1/dramas/{drama_id}/scripts/generate",
    "POST /api/v1/dramas/{drama_id}/videos/render",
    "PUT /api/v1/dramas/{drama_id}/storyboards/reorder",
    "PUT /api/v1/dramas/{drama_id}/storyboards/{storyboard_id}",
}


@pytest.fixture(scope="module")
def fuzz_user(platform: PlatformProcess) -> Iterator[Api]:
    user = Api(platform.url)
    yield user
    # Whatever work is still queued or running for the fuzzing user (a task a 2xx other than
    # 202 started) is cancelled too, so the rest of the session runs on a quiet platform.
    # The fuzzing may have logged this session out (POST /auth/logout): sign in again first,
    # unless its own logins used up this address's login window (then nothing is cleaned).
    try:
        user.login()
    except AssertionError:
        return
    for status in ("pending", "running", "paused"):
        r = user.get("/workflow", params={"status": status, "page_size": 100})
        for workflow in r.json()["data"]["workflows"]:
            user.post(f"/workflow/{workflow['id']}/cancel")
    for status in ("pending", "running"):
        r = user.get("/tasks", params={"status": status, "per_page": 100})
        for task in r.json()["data"]:
            user.post(f"/tasks/{task['task_id']}/cancel")


@pytest.fixture(scope="module")
def owned(fuzz_user: Api) -> OwnedContent:
    return create_owned_content(fuzz_user, "Fuzz")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def api_schema(platform: PlatformProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{platform.url}/openapi.json")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's `from_fixture` labels each operation's subtest through
    `Node._nodeid`, an attribute pytest 9.2 no longer has: give it one to write to."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


def use_real_ids(case: Case, ids: dict[str, str]) -> None:
    """Swap generated path ids for real ones in about two cases in three (never for DELETE)."""
    if case.method.upper() == "DELETE" or not case.path_parameters:
        return
    fingerprint = repr((case.path_parameters, case.query, case.body)).encode()
    if hashlib.sha256(fingerprint).digest()[0] % 3 == 0:
        return
    for name in case.path_parameters:
        if name in ids:
            case.path_parameters[name] = ids[name]


def assert_error_envelope(case: Case, status: int, text: str) -> None:
    where = f"{case.method} {case.formatted_path} answered {status}: {text[:500]}"
    try:
        body = json.loads(text)
    except ValueError:
        raise AssertionError(f"not JSON: {where}") from None
    assert isinstance(body, dict), where
    assert isinstance(body.get("code"), int) and body["code"] >= 1000, where
    assert isinstance(body.get("message"), str) and body["message"], where
    error = body.get("error")
    assert isinstance(error, dict) and isinstance(error.get("reason"), str), where


def cancel_accepted_task(fuzz_user: Api, status: int, body: bytes) -> None:
    if status != 202:
        return
    data = json.loads(body)["data"]
    if "workflow_id" in data:  # POST /workflow: the workflow and its running stage
        r = fuzz_user.post(f"/workflow/{data['workflow_id']}/cancel")
    else:
        r = fuzz_user.post(f"/tasks/{data['task_id']}/cancel")
    assert r.status_code in (200, 409), r.text  # 409: it finished already


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error(
    case: Case,
    fuzz_user: Api,
    owned: OwnedContent,
    session: requests.Session,
) -> None:
    use_real_ids(case, owned.ids())
    headers: dict[str, Any] = {"Authorization": f"Bearer {fuzz_user.token}"}
    response = case.call(session=session, headers=headers, timeout=REQUEST_TIMEOUT_S)
    status = response.status_code
    # Exports answer with MP4 or ZIP bytes: decode only for messages, never fail on it.
    text = response.content.decode("utf-8", errors="replace")
    assert status < 500, (
        f"{case.method} {case.formatted_path} answered {status}: {text[:500]}\n"
        f"reproduce: {case.as_curl_command(headers={'Authorization': 'Bearer …'})}"
    )
    if 400 <= status < 500:
        assert_error_envelope(case, status, text)
    checks: list[Any] = [response_schema_conformance]
    if f"{case.method.upper()} {case.path}" in POSITIVE_CHECKED:
        checks.append(positive_data_acceptance)
    case.validate_response(response, checks=checks)
    cancel_accepted_task(fuzz_user, status, response.content)


def test_linked_operations_reach_real_resources(
    api_schema: schemathesis.BaseSchema, fuzz_user: Api, session: requests.Session
) -> None:
    """Schemathesis' stateful phase: it follows the document's links from each create to its
    get, update and delete (a drama's id into its scripts, characters and designs; a task id
    into GET /tasks and cancel), so fuzzed requests reach real resources, not only 404s. The
    same rules hold on every step as in the test above."""
    headers = {"Authorization": f"Bearer {fuzz_user.token}"}

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"session": session, "headers": headers, "timeout": REQUEST_TIMEOUT_S}

        def validate_response(self, response: Any, case: Case, *_a: Any, **_kw: Any) -> None:
            status = response.status_code
            text = response.content.decode("utf-8", errors="replace")
            assert status < 500, f"{case.method} {case.formatted_path} answered {status}: {text}"
            if 400 <= status < 500:
                assert_error_envelope(case, status, text)
            case.validate_response(response, checks=[response_schema_conformance])
            cancel_accepted_task(fuzz_user, status, response.content)

    Workflow.run(
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )

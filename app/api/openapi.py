"""The OpenAPI 3.1 document for /api/v1. A test checks it lists exactly the blueprint's routes, and a
schemathesis run checks the live app against it. It states every limit the code enforces."""

from __future__ import annotations

from app import problems
from app.config import Settings
from app.models import RunStatus
from app.runs import MAX_RUN_ID, Submission

RUN_ID = {
    "name": "run_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RUN_ID},
}
STATUSES = [s.value for s in RunStatus]
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retries with the same key and body return the same run (200) for 24 hours",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
NULLABLE_RUN_REF = {"oneOf": [{"$ref": "#/components/schemas/RunRef"}, {"type": "null"}]}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _signed_in(responses: dict) -> dict:
    """The answers every signed-in route can give besides its own."""
    return {**responses, "401": _error("Not signed in: send an API token as Authorization: Bearer <token>")}


def _submission(settings: Settings) -> dict:
    schema = Submission.model_json_schema()
    props = schema["properties"]
    props["problem_type"]["enum"] = [p.name for p in problems.all_types()]
    time_limit = props["time_limit"]["anyOf"][0]
    time_limit["maximum"] = settings.SOLVER_MAX_TIME_LIMIT
    time_limit["description"] = "Seconds; at most SOLVER_MAX_TIME_LIMIT, or the user's own cap if lower"
    threads = props["threads"]["anyOf"][0]
    threads["maximum"] = settings.SOLVER_MAX_THREADS
    demos = sorted({d for p in problems.all_types() for d in p.demos})
    props["demo"]["anyOf"][0]["enum"] = demos
    formats = sorted({"json", *(f for p in problems.all_types() for f in p.importers)})
    props["format"]["enum"] = formats
    # Exactly one of input and demo. The input's own rules are each problem type's schema
    # (components Input schemas, GET /problem-types) plus checks across fields: 422 names the field.
    schema["oneOf"] = [
        {"required": ["input"], "properties": {"input": {"type": ["object", "string"]}, "demo": {"type": "null"}}},
        {"required": ["demo"], "properties": {"demo": {"type": "string"}, "input": {"type": "null"}}},
    ]
    return schema


CREATED_RUN_LINKS = {
    "GetRun": {"operationId": "getRun", "parameters": {"run_id": "$response.body#/id"}},
    "CancelRun": {"operationId": "cancelRun", "parameters": {"run_id": "$response.body#/id"}},
}


def document(settings: Settings) -> dict:
    inputs = {
        f"{p.name}.Input": p.input_model.model_json_schema(ref_template="#/components/schemas/{model}")
        for p in problems.all_types()
    }
    submission = _submission(settings)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SolveQueue API",
            "version": "1",
            "description": "Submit constraint-optimisation solves, watch their progress, read explained results. "
            "Authenticate with a personal API token (create one on your account page): "
            "`Authorization: Bearer <token>`. You see and cancel only your own runs. Submissions are "
            f"rate-limited per user ({settings.RATE_LIMIT_SUBMIT}: 429 + Retry-After) and refused while "
            f"you have {settings.MAX_QUEUED_PER_USER} runs queued or the queue holds {settings.MAX_QUEUED_TOTAL} "
            f"(503 + Retry-After). Request bodies: at most {settings.MAX_CONTENT_LENGTH} bytes (413).",
        },
        "security": [{"bearerToken": []}],
        "paths": {
            "/api/v1/runs": {
                "post": {
                    "summary": "Submit a run",
                    "operationId": "createRun",
                    "parameters": [IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}},
                    },
                    "responses": _signed_in(
                        {
                            "200": {
                                **_json("Run", "A retry with the same Idempotency-Key and body: the run it created"),
                                "headers": {"Location": {"schema": {"type": "string"}}},
                            },
                            "202": {
                                **_json("Run", "Stored and queued"),
                                "headers": {"Location": {"schema": {"type": "string"}}},
                                "links": CREATED_RUN_LINKS,
                            },
                            "400": _error("Malformed JSON, or nested too deep"),
                            "413": _error("Body too large"),
                            "415": _error("Not application/json"),
                            "422": _error("Invalid fields (with paths), or an Idempotency-Key reused for another body"),
                            "429": {**_error("Too many submissions"), "headers": RETRY_AFTER},
                            "503": {**_error("Too many runs queued (yours or in total)"), "headers": RETRY_AFTER},
                        }
                    ),
                },
                "get": {
                    "summary": "List runs, newest first",
                    "operationId": "listRuns",
                    "parameters": [
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10**6, "default": 1},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": STATUSES},
                        },
                        {
                            "name": "problem_type",
                            "in": "query",
                            "schema": {"type": "string", "enum": [p.name for p in problems.all_types()]},
                        },
                        {
                            "name": "before",
                            "in": "query",
                            "description": "Keyset cursor: only runs with a smaller id (see links.next); replaces page",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**62},
                        },
                    ],
                    "responses": _signed_in(
                        {
                            "200": _json("RunPage", "One page of your runs (an admin: everyone's)"),
                            "422": _error("Invalid query parameter"),
                        }
                    ),
                },
            },
            "/api/v1/runs/batch": {
                "post": {
                    "summary": f"Submit up to {settings.MAX_BATCH_RUNS} runs at once, all or none",
                    "description": "Every submission is validated first: one bad submission refuses the batch "
                    "(422, its errors under runs[i]) and nothing is stored. Each run counts against the rate "
                    "limit and the queue caps like a single submission. With an Idempotency-Key, a retry with "
                    "the same body returns the same runs (200).",
                    "operationId": "createRuns",
                    "parameters": [IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
                    },
                    "responses": _signed_in(
                        {
                            "200": _json("RunList", "A retry with the same Idempotency-Key and body: its runs"),
                            "202": _json("RunList", "Stored and queued, in the order sent"),
                            "400": _error("Malformed JSON, or nested too deep"),
                            "413": _error("Body too large"),
                            "415": _error("Not application/json"),
                            "422": _error("Invalid fields (paths under runs[i]), or an Idempotency-Key reused"),
                            "429": {**_error("Too many submissions"), "headers": RETRY_AFTER},
                            "503": {**_error("Too many runs queued (yours or in total)"), "headers": RETRY_AFTER},
                        }
                    ),
                },
            },
            "/api/v1/runs/{run_id}": {
                "get": {
                    "summary": "A run with its progress points and, when done, its result",
                    "operationId": "getRun",
                    "parameters": [
                        RUN_ID,
                        {
                            "name": "input",
                            "in": "query",
                            "description": "0 leaves the (possibly large) input out, e.g. when polling",
                            "schema": {"type": "string", "enum": ["0", "1", "false", "true"], "default": "1"},
                        },
                    ],
                    "responses": _signed_in(
                        {
                            "200": _json("RunDetail", "The run"),
                            "404": _error("No such run of yours"),
                            "422": _error("Invalid query parameter"),
                        }
                    ),
                },
            },
            "/api/v1/runs/{run_id}/log": {
                "get": {
                    "summary": "CP-SAT's search log of the run so far (bounded: its start and its newest output)",
                    "operationId": "getRunLog",
                    "parameters": [RUN_ID],
                    "responses": _signed_in(
                        {
                            "200": {
                                "description": "The log",
                                "content": {"text/plain": {"schema": {"type": "string"}}},
                            },
                            "404": _error("No such run of yours"),
                        }
                    ),
                },
            },
            "/api/v1/runs/{run_id}/cancel": {
                "post": {
                    "summary": "Cancel a queued run, or stop a running one keeping its best solution",
                    "operationId": "cancelRun",
                    "parameters": [RUN_ID],
                    "responses": _signed_in(
                        {
                            "200": _json("Run", "Canceled before it started"),
                            "202": _json("Run", "Stop requested; the run ends canceled shortly"),
                            "400": _error("Signed in with a session cookie but without the CSRF token"),
                            "404": _error("No such run of yours"),
                            "409": _error("The run has already finished"),
                        }
                    ),
                },
            },
            "/api/v1/problem-types": {
                "get": {
                    "summary": "Problem types with their input JSON schema and demo instances",
                    "operationId": "listProblemTypes",
                    "security": [],
                    "responses": {"200": {"description": "The registered problem types"}},
                },
            },
            "/api/v1/workers": {
                "get": {
                    "summary": "RQ workers: host, pid, state, the run each solves, heartbeat (admin only)",
                    "operationId": "listWorkers",
                    "responses": {
                        "200": _json("WorkerList", "Every registered worker, busiest first"),
                        "401": _error("Not signed in: send an API token as Authorization: Bearer <token>"),
                        "403": _error("Signed in, but not as an admin"),
                        "503": _error("Redis did not answer"),
                    },
                },
            },
            "/api/v1/queues": {
                "get": {
                    "summary": "Queues: depth, the oldest waiting run and its wait, the runs running now (admin only)",
                    "operationId": "listQueues",
                    "responses": {
                        "200": _json("QueueList", "The high, default and low queues"),
                        "401": _error("Not signed in: send an API token as Authorization: Bearer <token>"),
                        "403": _error("Signed in, but not as an admin"),
                        "503": _error("Redis did not answer"),
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1"}},
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "A personal API token"},
            },
            "schemas": {
                "Submission": submission,
                **inputs,
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                },
                "Batch": {
                    "type": "object",
                    "required": ["runs"],
                    "additionalProperties": False,
                    "properties": {
                        "runs": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": settings.MAX_BATCH_RUNS,
                            "items": {"$ref": "#/components/schemas/Submission"},
                        }
                    },
                },
                "RunList": {
                    "type": "object",
                    "required": ["items"],
                    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}},
                },
                "Run": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "problem_type": {"type": "string"},
                        "status": {"type": "string", "enum": STATUSES},
                        "priority": {"type": "string"},
                        "time_limit": {"type": "number"},
                        "threads": {"type": "integer"},
                        "solver_status": {"type": ["string", "null"]},
                        "objective": {"type": ["number", "null"]},
                        "solver_objective": {"type": ["number", "null"]},
                        "best_bound": {"type": ["number", "null"]},
                        "gap": {"type": ["number", "null"]},
                        "maximize": {"type": "boolean", "description": "the objective is maximised: higher is better"},
                        "num_solutions": {"type": "integer"},
                        "wall_time": {"type": ["number", "null"]},
                        "error": {"type": ["string", "null"]},
                        "attempt": {"type": "integer"},
                        "created_at": {"type": "string"},
                        "started_at": {"type": ["string", "null"]},
                        "finished_at": {"type": ["string", "null"]},
                        "cancel_requested": {"type": "boolean"},
                        "terminal": {"type": "boolean"},
                    },
                },
                "RunDetail": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Run"},
                        {
                            "type": "object",
                            "properties": {
                                "input": {"type": "object"},
                                "result": {"type": ["object", "null"]},
                                "stats": {"type": ["object", "null"]},
                                "progress": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "elapsed": {"type": "number"},
                                            "objective": {"type": ["number", "null"]},
                                            "bound": {"type": ["number", "null"]},
                                        },
                                    },
                                },
                            },
                        },
                    ]
                },
                "RunRef": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "problem_type": {"type": "string"},
                        "priority": {"type": "string"},
                        "threads": {"type": "integer"},
                        "created_at": {"type": "string"},
                        "started_at": {"type": ["string", "null"]},
                        "worker": {"type": ["string", "null"], "description": "<worker name> pid <work horse pid>"},
                        "horse_pid": {"type": ["integer", "null"]},
                    },
                },
                "WorkerList": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "host": {"type": ["string", "null"]},
                                    "pid": {"type": ["integer", "null"]},
                                    "state": {"type": "string", "description": "RQ's: idle, busy, suspended…"},
                                    "queues": {"type": "array", "items": {"type": "string"}},
                                    "run": NULLABLE_RUN_REF,
                                    "since": {"type": ["string", "null"], "description": "run started, or up since"},
                                    "threads": {"type": ["integer", "null"], "description": "CP-SAT threads"},
                                    "last_heartbeat": {"type": ["string", "null"]},
                                    "heartbeat_age": {"type": ["number", "null"], "description": "seconds"},
                                    "stale": {"type": "boolean", "description": "heartbeat overdue: gone or hung"},
                                    "jobs_done": {"type": "integer"},
                                    "jobs_failed": {"type": "integer"},
                                },
                            },
                        }
                    },
                },
                "QueueList": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "depth": {"type": "integer", "description": "jobs waiting in Redis"},
                                    "queued_runs": {"type": "integer", "description": "runs queued in the database"},
                                    "oldest": NULLABLE_RUN_REF,
                                    "oldest_wait": {"type": ["number", "null"], "description": "seconds"},
                                    "running": {"type": "array", "items": {"$ref": "#/components/schemas/RunRef"}},
                                },
                            },
                        }
                    },
                },
                "RunPage": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
                        "page": {"type": "integer", "minimum": 1, "maximum": 10**6},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                        "total": {
                            "type": ["integer", "null"],
                            "description": "runs under the filters; null on a keyset page (?before=)",
                        },
                        "links": {
                            "type": "object",
                            "properties": {"next": {"type": "string", "description": "The next page (keyset)"}},
                        },
                    },
                },
            },
        },
    }

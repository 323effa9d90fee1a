"""The OpenAPI 3.1 document for /api/v1. A test checks it lists exactly the blueprint's routes."""

from __future__ import annotations

from app import problems
from app.runs import Submission

RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "integer"}}


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


def document() -> dict:
    inputs = {
        f"{p.name}.Input": p.input_model.model_json_schema(ref_template="#/components/schemas/{model}")
        for p in problems.all_types()
    }
    submission = Submission.model_json_schema()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SolveQueue API",
            "version": "1",
            "description": "Submit constraint-optimisation solves, watch their progress, read explained results.",
        },
        "paths": {
            "/api/v1/runs": {
                "post": {
                    "summary": "Submit a run",
                    "operationId": "createRun",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}},
                    },
                    "responses": {
                        "202": {
                            **_json("Run", "Stored and queued"),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        "400": _error("Malformed JSON"),
                        "413": _error("Body too large"),
                        "415": _error("Not application/json"),
                        "422": _error("Invalid fields, with their paths"),
                    },
                },
                "get": {
                    "summary": "List runs, newest first",
                    "operationId": "listRuns",
                    "parameters": [
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["queued", "running", "succeeded", "infeasible", "failed", "canceled"],
                            },
                        },
                        {"name": "problem_type", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "before",
                            "in": "query",
                            "description": "Keyset cursor: only runs with a smaller id (see links.next); replaces page",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                    ],
                    "responses": {
                        "200": _json("RunPage", "One page of runs"),
                        "422": _error("Invalid query parameter"),
                    },
                },
            },
            "/api/v1/runs/{run_id}": {
                "get": {
                    "summary": "A run with its progress points and, when done, its result",
                    "operationId": "getRun",
                    "parameters": [RUN_ID],
                    "responses": {"200": _json("RunDetail", "The run"), "404": _error("Unknown run")},
                },
            },
            "/api/v1/runs/{run_id}/cancel": {
                "post": {
                    "summary": "Cancel a queued run, or stop a running one keeping its best solution",
                    "operationId": "cancelRun",
                    "parameters": [RUN_ID],
                    "responses": {
                        "200": _json("Run", "Canceled before it started"),
                        "202": _json("Run", "Stop requested; the run ends canceled shortly"),
                        "404": _error("Unknown run"),
                        "409": _error("The run has already finished"),
                    },
                },
            },
            "/api/v1/problem-types": {
                "get": {
                    "summary": "Problem types with their input JSON schema and demo instances",
                    "operationId": "listProblemTypes",
                    "responses": {"200": {"description": "The registered problem types"}},
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": {"description": "OpenAPI 3.1"}},
                },
            },
        },
        "components": {
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
                "Run": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "problem_type": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["queued", "running", "succeeded", "infeasible", "failed", "canceled"],
                        },
                        "priority": {"type": "string"},
                        "time_limit": {"type": "number"},
                        "threads": {"type": "integer"},
                        "solver_status": {"type": ["string", "null"]},
                        "objective": {"type": ["number", "null"]},
                        "solver_objective": {"type": ["number", "null"]},
                        "best_bound": {"type": ["number", "null"]},
                        "gap": {"type": ["number", "null"]},
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
                "RunPage": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "total": {"type": "integer"},
                        "links": {
                            "type": "object",
                            "properties": {"next": {"type": "string", "description": "The next page (keyset)"}},
                        },
                    },
                },
            }
        },
    }

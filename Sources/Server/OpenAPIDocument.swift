/// The OpenAPI 3.1 description of this server's API, served at `GET /v1/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "cma — OpenAI Agents API (agents=v1)",
            "version": "1.0.0",
            "description": "The subset of the OpenAI Agents API (`OpenAI-Beta: agents=v1`) this server implements, as it implements it. Every `/v1` route needs `Authorization: Bearer <key>` (401 otherwise) except this document. Errors use the OpenAI envelope `{\"error\": {\"message\", \"type\", \"param\", \"code\"}}`. Request bodies are JSON (the Content-Type is not checked; an empty body reads as `{}`), at most 8 MiB; unknown fields are rejected wherever an object is closed (`additionalProperties: false`). Unknown paths and methods are a 404. Choices where the Agents API is silent are in docs/DECISIONS.md."
          },
          "servers": [{"url": "/v1"}],
          "security": [{"bearerAuth": []}],
          "tags": [
            {"name": "Agents"},
            {"name": "Sessions"},
            {"name": "Artifacts"},
            {"name": "Environments"},
            {"name": "Files"},
            {"name": "Vaults"},
            {"name": "Automations"},
            {"name": "Meta"}
          ],
          "paths": {
            "/openapi.json": {
              "get": {
                "operationId": "getOpenAPIDocument",
                "summary": "This document",
                "responses": {
                  "200": {
                    "description": "The OpenAPI 3.1 description of this API.",
                    "content": {"application/json": {"schema": {"type": "object"}}}
                  }
                },
                "tags": ["Meta"],
                "security": []
              }
            },
            "/agents": {
              "post": {
                "operationId": "createAgent",
                "summary": "Create a reusable agent",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Agent"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/AgentCreateRequest"},
                      "example": {
                        "model": "gpt-5.1-codex",
                        "name": "helper",
                        "instructions": "Be brief.",
                        "metadata": {"team": "docs"}
                      }
                    }
                  }
                },
                "tags": ["Agents"]
              },
              "get": {
                "operationId": "listAgents",
                "summary": "List agents",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Agent"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Agents"]
              }
            },
            "/agents/{agent_id}": {
              "parameters": [
                {
                  "name": "agent_id",
                  "in": "path",
                  "required": true,
                  "schema": {
                    "type": "string",
                    "minLength": 1,
                    "not": {"enum": ["sessions", "environments", "automations"]}
                  },
                  "description": "An agent ID. `sessions`, `environments` and `automations` are other routes."
                }
              ],
              "get": {
                "operationId": "getAgent",
                "summary": "Retrieve an agent",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Agent"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Agents"]
              },
              "post": {
                "operationId": "updateAgent",
                "summary": "Update an agent",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Agent"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/AgentUpdateRequest"},
                      "example": {"name": "renamed"}
                    }
                  }
                },
                "tags": ["Agents"]
              },
              "delete": {
                "operationId": "deleteAgent",
                "summary": "Delete an agent",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [{"$ref": "#/components/schemas/DeletedObject"}],
                          "properties": {"object": {"type": "string", "const": "agent.deleted"}}
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Agents"]
              }
            },
            "/agents/sessions": {
              "post": {
                "operationId": "createSession",
                "summary": "Create a session",
                "responses": {
                  "200": {
                    "description": "The session (JSON), or with `stream: true` an SSE stream of its events that ends after the first turn and the following `agent.session.idle` (or `agent.session.failed`) with `data: [DONE]`.",
                    "content": {
                      "application/json": {"schema": {"$ref": "#/components/schemas/AgentSession"}},
                      "text/event-stream": {"schema": {"$ref": "#/components/schemas/SSEEvent"}}
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"},
                  "503": {"$ref": "#/components/responses/ServiceUnavailable"}
                },
                "description": "404: `agent_id`, `environment.environment_template_id` or `environment.environment_id` names nothing. 409: `environment_in_use` (the prewarmed environment is already used by a session) or `idempotency_key_in_use`. A retried streamed create (same Idempotency-Key) gets the same stream again.",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/SessionCreateRequest"},
                      "examples": {
                        "inline_agent": {
                          "value": {
                            "agent": {"model": "gpt-5.1-codex"},
                            "environment": {"type": "none"},
                            "input": "Say hello",
                            "metadata": {"k": "v"}
                          }
                        },
                        "streaming": {
                          "value": {
                            "agent": {"model": "gpt-5.1-codex", "reasoning": {"effort": "low"}},
                            "environment": {"type": "none"},
                            "input": "Say hello",
                            "stream": true
                          }
                        }
                      }
                    }
                  }
                },
                "tags": ["Sessions"]
              },
              "get": {
                "operationId": "listSessions",
                "summary": "List sessions",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/AgentSession"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"},
                  {
                    "name": "agent_id",
                    "in": "query",
                    "description": "Only sessions created from this saved agent.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "metadata",
                    "in": "query",
                    "style": "deepObject",
                    "explode": true,
                    "description": "`metadata[key]=value` exact matches; all must match. At most 16; keys 1–64 characters, values at most 512.",
                    "schema": {"$ref": "#/components/schemas/MetadataParam"}
                  }
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getSession",
                "summary": "Retrieve a session",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AgentSession"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Sessions"]
              },
              "post": {
                "operationId": "updateSession",
                "summary": "Update a session",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AgentSession"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/SessionUpdateRequest"},
                      "example": {"metadata": {"k": "v2"}, "agent": {"service_tier": "flex"}}
                    }
                  }
                },
                "tags": ["Sessions"]
              },
              "delete": {
                "operationId": "deleteSession",
                "summary": "Delete a session",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [{"$ref": "#/components/schemas/DeletedObject"}],
                          "properties": {"object": {"type": "string", "const": "agent.session.deleted"}}
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "409 `session_active` while a turn is open (cancel it and wait for `idle` first).",
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/events": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "post": {
                "operationId": "submitSessionEvents",
                "summary": "Submit input events",
                "responses": {
                  "202": {"description": "Accepted (no body)."},
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"},
                  "503": {"$ref": "#/components/responses/ServiceUnavailable"}
                },
                "parameters": [
                  {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "description": "1 to 256 bytes. The same key with the same body is answered 202 again without applying anything; with another body it is a 400 `idempotency_key_reused`. Keys are kept 24 hours.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 256}
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/SessionEventsRequest"},
                      "examples": {
                        "message": {
                          "value": {
                            "events": [
                              {
                                "type": "agent.session.input.message",
                                "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
                              }
                            ]
                          }
                        },
                        "cancel": {"value": {"events": [{"type": "agent.session.input.cancel"}]}},
                        "tool_result": {
                          "value": {
                            "events": [
                              {
                                "type": "agent.session.input.tool_result",
                                "turn_id": "turn_01",
                                "call_id": "call_01",
                                "success": true,
                                "output": "{\"temperature\": 21}"
                              }
                            ]
                          }
                        }
                      }
                    }
                  }
                },
                "tags": ["Sessions"]
              },
              "get": {
                "operationId": "streamSessionEvents",
                "summary": "Stream live events",
                "responses": {
                  "200": {
                    "description": "A live SSE subscription from the moment the headers are sent (no replay). It ends when the client leaves, the session is deleted or the server shuts down.",
                    "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/SSEEvent"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {
                    "name": "include_obfuscation",
                    "in": "query",
                    "schema": {"type": "boolean", "default": true}
                  }
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/items": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listSessionItems",
                "summary": "List a session's items",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/SessionItem"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/turns": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listTurns",
                "summary": "List a session's turns",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Turn"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/turns/{turn_id}": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "turn_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getTurn",
                "summary": "Retrieve a turn",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Turn"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/turns/{turn_id}/items": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "turn_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listTurnItems",
                "summary": "List a turn's items",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/SessionItem"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "A ConversationCursorPage: page on with `after=<last_id>` (here the last item's ID).",
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/subagents": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listSubagents",
                "summary": "List subagents (always empty)",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Subagent"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/subagents/{subagent_id}": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "subagent_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getSubagent",
                "summary": "Retrieve a subagent",
                "responses": {
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "There are no subagents in this version: 404 once the session exists.",
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/subagents/{subagent_id}/items": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "subagent_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listSubagentItems",
                "summary": "List a subagent's items",
                "responses": {
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "There are no subagents in this version: 404 once the session exists.",
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/subagents/{subagent_id}/turns": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "subagent_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listSubagentTurns",
                "summary": "List a subagent's turns",
                "responses": {
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "There are no subagents in this version: 404 once the session exists.",
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/subagents/{subagent_id}/turns/{turn_id}": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "subagent_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "turn_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getSubagentTurn",
                "summary": "Retrieve a subagent's turn",
                "responses": {
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "There are no subagents in this version: 404 once the session exists.",
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/subagents/{subagent_id}/turns/{turn_id}/items": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "subagent_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "turn_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listSubagentTurnItems",
                "summary": "List a subagent turn's items",
                "responses": {
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "There are no subagents in this version: 404 once the session exists.",
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/traces": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listTraces",
                "summary": "List traces (always empty)",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/SessionTrace"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Sessions"]
              }
            },
            "/agents/sessions/{session_id}/artifacts": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listArtifacts",
                "summary": "List a session's artifacts",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/SessionArtifact"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"},
                  {
                    "name": "environment_id",
                    "in": "query",
                    "description": "Only artifacts of this environment.",
                    "schema": {"type": "string"}
                  }
                ],
                "tags": ["Artifacts"]
              }
            },
            "/agents/sessions/{session_id}/artifacts/{artifact_id}": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "artifact_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getArtifact",
                "summary": "Retrieve an artifact",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionArtifact"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Artifacts"]
              },
              "delete": {
                "operationId": "deleteArtifact",
                "summary": "Delete an artifact",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [{"$ref": "#/components/schemas/DeletedObject"}],
                          "properties": {"object": {"type": "string", "const": "agent.session.artifact.deleted"}}
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Artifacts"]
              }
            },
            "/agents/sessions/{session_id}/artifacts/{artifact_id}/content": {
              "parameters": [
                {
                  "name": "session_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "artifact_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getArtifactContent",
                "summary": "Download an artifact",
                "responses": {
                  "200": {
                    "description": "The artifact's bytes.",
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Artifacts"]
              }
            },
            "/agents/environments": {
              "post": {
                "operationId": "createEnvironment",
                "summary": "Create a prewarmed environment",
                "responses": {
                  "200": {
                    "description": "The environment, `pending` while its sandbox is provisioned in the background.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentInfo"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "404: `environment_template_id` names no template.",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/EnvironmentCreateRequest"},
                      "example": {"environment": {"type": "openai_hosted", "network": {"access": "disabled"}}}
                    }
                  }
                },
                "tags": ["Environments"]
              },
              "get": {
                "operationId": "listEnvironments",
                "summary": "List environments",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/EnvironmentInfo"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"},
                  {
                    "name": "type",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["openai_hosted"], "default": "openai_hosted"}
                  }
                ],
                "tags": ["Environments"]
              }
            },
            "/agents/environments/{environment_id}": {
              "parameters": [
                {
                  "name": "environment_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1, "not": {"enum": ["templates"]}},
                  "description": "An environment ID. `templates` is another route."
                }
              ],
              "get": {
                "operationId": "getEnvironment",
                "summary": "Retrieve an environment",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentInfo"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Environments"]
              }
            },
            "/agents/environments/{environment_id}/files": {
              "parameters": [
                {
                  "name": "environment_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1, "not": {"enum": ["templates"]}},
                  "description": "An environment ID. `templates` is another route."
                }
              ],
              "post": {
                "operationId": "uploadEnvironmentFile",
                "summary": "Write a file into a live environment",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentFile"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "409: `environment_not_connected` (the environment has no running sandbox and cannot be started) or `idempotency_key_in_use`.",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/HostedFileParam"},
                      "example": {"type": "inline", "data": "aGVsbG8K", "path": "/workspace/hello.txt"}
                    }
                  }
                },
                "tags": ["Environments"]
              },
              "get": {
                "operationId": "listEnvironmentFiles",
                "summary": "List a live environment's files",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentFilePage"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "Files sorted by path components (byte order), default descending. 409 `environment_not_connected` as for uploads.",
                "parameters": [
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"},
                  {
                    "name": "page",
                    "in": "query",
                    "description": "The previous page's `next` token (same `path` and `order`).",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "path",
                    "in": "query",
                    "description": "A directory: `/workspace` (the default) or a workspace path.",
                    "schema": {"type": "string"}
                  }
                ],
                "tags": ["Environments"]
              }
            },
            "/agents/environments/templates": {
              "post": {
                "operationId": "createTemplate",
                "summary": "Create an environment template",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentTemplate"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/EnvironmentTemplateRequest"},
                      "example": {
                        "name": "base",
                        "network": {"access": "restricted", "allowed_domains": ["pypi.org"]},
                        "env": {"MODE": "test"}
                      }
                    }
                  }
                },
                "tags": ["Environments"]
              },
              "get": {
                "operationId": "listTemplates",
                "summary": "List environment templates",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/EnvironmentTemplate"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Environments"]
              }
            },
            "/agents/environments/templates/{environment_template_id}": {
              "parameters": [
                {
                  "name": "environment_template_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getTemplate",
                "summary": "Retrieve an environment template",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentTemplate"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Environments"]
              },
              "post": {
                "operationId": "updateTemplate",
                "summary": "Update an environment template",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnvironmentTemplate"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/EnvironmentTemplateRequest"},
                      "example": {"name": "renamed"}
                    }
                  }
                },
                "tags": ["Environments"]
              },
              "delete": {
                "operationId": "deleteTemplate",
                "summary": "Delete an environment template",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [{"$ref": "#/components/schemas/DeletedObject"}],
                          "properties": {"object": {"type": "string", "const": "agent.environment.template.deleted"}}
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Environments"]
              }
            },
            "/files": {
              "post": {
                "operationId": "uploadFile",
                "summary": "Upload a file",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileObject"}}}
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "409": {"$ref": "#/components/responses/Conflict"},
                  "413": {"$ref": "#/components/responses/ContentTooLarge"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "description": "413 `request_too_large` for a file over 64 MiB. 409 `idempotency_key_in_use`.",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                  "required": true,
                  "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/FileUploadRequest"}}}
                },
                "tags": ["Files"]
              },
              "get": {
                "operationId": "listFiles",
                "summary": "List files",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "object": {"type": "string", "const": "list"},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/FileObject"}},
                            "first_id": {
                              "type": ["string", "null"],
                              "description": "ID of the first element; null when `data` is empty."
                            },
                            "last_id": {
                              "type": ["string", "null"],
                              "description": "ID of the last element (the `after` cursor of the next page); null when `data` is empty."
                            },
                            "has_more": {"type": "boolean"}
                          },
                          "required": ["object", "data", "first_id", "last_id", "has_more"]
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "parameters": [
                  {"$ref": "#/components/parameters/after"},
                  {"$ref": "#/components/parameters/limit"},
                  {"$ref": "#/components/parameters/order"}
                ],
                "tags": ["Files"]
              }
            },
            "/files/{file_id}": {
              "parameters": [
                {
                  "name": "file_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getFile",
                "summary": "Retrieve a file",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileObject"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Files"]
              },
              "delete": {
                "operationId": "deleteFile",
                "summary": "Delete a file",
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [{"$ref": "#/components/schemas/DeletedObject"}],
                          "properties": {"object": {"type": "string", "const": "file"}}
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Files"]
              }
            },
            "/files/{file_id}/content": {
              "parameters": [
                {
                  "name": "file_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getFileContent",
                "summary": "Download a file",
                "responses": {
                  "200": {
                    "description": "The file's bytes.",
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"},
                  "500": {"$ref": "#/components/responses/InternalError"}
                },
                "tags": ["Files"]
              }
            },
            "/vaults": {
              "get": {
                "operationId": "listVaults",
                "summary": "List vaults",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              },
              "post": {
                "operationId": "createVault",
                "summary": "Create a vault",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              }
            },
            "/vaults/{vault_id}": {
              "parameters": [
                {
                  "name": "vault_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getVault",
                "summary": "Retrieve a vault",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              },
              "post": {
                "operationId": "updateVault",
                "summary": "Update a vault",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              },
              "delete": {
                "operationId": "deleteVault",
                "summary": "Delete a vault",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              }
            },
            "/vaults/{vault_id}/credentials": {
              "parameters": [
                {
                  "name": "vault_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listCredentials",
                "summary": "List credentials",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              },
              "post": {
                "operationId": "createCredential",
                "summary": "Create a credential",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              }
            },
            "/vaults/{vault_id}/credentials/{credential_id}": {
              "parameters": [
                {
                  "name": "vault_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "credential_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getCredential",
                "summary": "Retrieve a credential",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              },
              "post": {
                "operationId": "updateCredential",
                "summary": "Update a credential",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              },
              "delete": {
                "operationId": "deleteCredential",
                "summary": "Delete a credential",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Vaults"]
              }
            },
            "/agents/automations": {
              "get": {
                "operationId": "listAutomations",
                "summary": "List automations",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              },
              "post": {
                "operationId": "createAutomation",
                "summary": "Create an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              }
            },
            "/agents/automations/{automation_id}": {
              "parameters": [
                {
                  "name": "automation_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getAutomation",
                "summary": "Retrieve an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              },
              "post": {
                "operationId": "updateAutomation",
                "summary": "Update an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              },
              "delete": {
                "operationId": "deleteAutomation",
                "summary": "Delete an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              }
            },
            "/agents/automations/{automation_id}/pause": {
              "parameters": [
                {
                  "name": "automation_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "post": {
                "operationId": "pauseAutomation",
                "summary": "Pause an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              }
            },
            "/agents/automations/{automation_id}/resume": {
              "parameters": [
                {
                  "name": "automation_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "post": {
                "operationId": "resumeAutomation",
                "summary": "Resume an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              }
            },
            "/agents/automations/{automation_id}/invocations": {
              "parameters": [
                {
                  "name": "automation_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "listInvocations",
                "summary": "List invocations",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              },
              "post": {
                "operationId": "invokeAutomation",
                "summary": "Invoke an automation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              }
            },
            "/agents/automations/{automation_id}/invocations/{invocation_id}": {
              "parameters": [
                {
                  "name": "automation_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                },
                {
                  "name": "invocation_id",
                  "in": "path",
                  "required": true,
                  "schema": {"type": "string", "minLength": 1}
                }
              ],
              "get": {
                "operationId": "getInvocation",
                "summary": "Retrieve an invocation",
                "responses": {
                  "400": {
                    "description": "Not available yet on this server (`feature_not_available`).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                  },
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/TooManyRequests"}
                },
                "description": "Not available yet: every request is a 400 `feature_not_available`.",
                "tags": ["Automations"]
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key from `cma keys create`."}
            },
            "parameters": {
              "after": {
                "name": "after",
                "in": "query",
                "description": "Return objects after this ID in the selected order (exclusive); at most 128 bytes.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 128}
              },
              "limit": {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
              },
              "order": {
                "name": "order",
                "in": "query",
                "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}
              },
              "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "description": "1 to 256 bytes. A retry with the same key and body gets the original response (the object is created once); with another body it is a 400 `idempotency_key_reused`; while the first request is still running, a 409 `idempotency_key_in_use`. A request that fails forgets its key. Keys are kept 24 hours.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 256}
              }
            },
            "responses": {
              "BadRequest": {
                "description": "The request is invalid (`param` names the field), or asks for something this server does not do yet (`feature_not_available`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Unauthorized": {
                "description": "No API key, or a wrong one (`missing_api_key`, `invalid_api_key`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "NotFound": {
                "description": "No such object in the caller's project (`not_found`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "Conflict": {
                "description": "The request conflicts with the object's state. Sent with `x-should-retry: false`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "ContentTooLarge": {
                "description": "The request body is larger than 8 MiB (`request_too_large`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "InternalError": {
                "description": "Something failed on the server's side (`internal_error`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "TooManyRequests": {
                "description": "Too many requests for this API key (a token bucket per key; `cma serve --rate-limit`, default 50 per second with bursts of 100). Retry after `retry-after` seconds (`retry-after-ms` milliseconds); nothing was changed.",
                "headers": {
                  "retry-after": {
                    "description": "Seconds until a request is allowed again (at least 1).",
                    "schema": {"type": "string"}
                  },
                  "retry-after-ms": {
                    "description": "Milliseconds until a request is allowed again.",
                    "schema": {"type": "string"}
                  }
                },
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "ServiceUnavailable": {
                "description": "The server is shutting down (`code: server_shutting_down`): nothing was changed. Retry after `retry-after` seconds (sent with `x-should-retry: true`).",
                "headers": {
                  "retry-after": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}
                },
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "object",
                    "properties": {
                      "message": {"type": "string"},
                      "type": {
                        "type": "string",
                        "description": "`invalid_request_error`, or `server_error` for 5xx."
                      },
                      "param": {
                        "type": ["string", "null"],
                        "description": "The offending field as a dotted path (`tools[0].name`), a query parameter or a header."
                      },
                      "code": {
                        "type": ["string", "null"],
                        "description": "For example `unknown_parameter`, `missing_required_parameter`, `invalid_type`, `invalid_value`, `invalid_json`, `feature_not_available`, `invalid_request_error` (unknown pending tool call or approval request), `idempotency_key_reused`, `not_found`, `missing_api_key`, `invalid_api_key`, `session_active`, `environment_in_use`, `environment_not_connected`, `request_too_large`, `internal_error`."
                      }
                    },
                    "required": ["message", "type", "param", "code"]
                  }
                },
                "required": ["error"],
                "description": "The OpenAI error envelope."
              },
              "DeletedObject": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "deleted": {"type": "boolean", "const": true},
                  "object": {"type": "string"}
                },
                "required": ["id", "deleted", "object"]
              },
              "MetadataParam": {
                "type": "object",
                "maxProperties": 16,
                "propertyNames": {"minLength": 1, "maxLength": 64},
                "additionalProperties": {"type": "string", "maxLength": 512},
                "description": "Up to 16 string pairs; keys 1–64 characters, values at most 512 characters."
              },
              "Metadata": {"type": "object", "additionalProperties": {"type": "string"}},
              "TokenUsage": {
                "type": "object",
                "properties": {
                  "input_tokens": {"type": "integer"},
                  "input_tokens_details": {
                    "type": "object",
                    "properties": {"cached_tokens": {"type": "integer"}},
                    "required": ["cached_tokens"]
                  },
                  "output_tokens": {"type": "integer"},
                  "output_tokens_details": {
                    "type": "object",
                    "properties": {"reasoning_tokens": {"type": "integer"}},
                    "required": ["reasoning_tokens"]
                  },
                  "total_tokens": {"type": "integer"}
                },
                "required": [
                  "input_tokens",
                  "input_tokens_details",
                  "output_tokens",
                  "output_tokens_details",
                  "total_tokens"
                ]
              },
              "ModelName": {
                "type": "string",
                "minLength": 1,
                "maxLength": 256,
                "pattern": "^[^\\u0000-\\u001f]+$",
                "description": "A model name: 1 to 256 UTF-8 bytes, no control characters. Any name is accepted; the model endpoint decides."
              },
              "CompactionParam": {
                "type": ["object", "null"],
                "properties": {"async": {"type": ["boolean", "null"]}},
                "additionalProperties": false,
                "description": "`{\"async\": true}` turns on background compaction; `null` or `{}` means blocking compaction."
              },
              "ExperimentalParam": {
                "type": "object",
                "properties": {"time_awareness": {"type": ["boolean", "null"]}},
                "additionalProperties": false,
                "description": "Merged by key; not nullable."
              },
              "ReasoningParam": {
                "type": ["object", "null"],
                "properties": {
                  "effort": {
                    "type": ["string", "null"],
                    "enum": ["none", "minimal", "low", "medium", "high", "xhigh", "max", null]
                  },
                  "summary": {"type": ["string", "null"], "enum": ["concise", "detailed", "auto", null]}
                },
                "additionalProperties": false
              },
              "TextFormatParam": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "text"}},
                    "required": ["type"],
                    "additionalProperties": false
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "json_schema"},
                      "schema": {"type": "object", "description": "A JSON Schema, taken as given."}
                    },
                    "required": ["type", "schema"],
                    "additionalProperties": false
                  }
                ]
              },
              "TextParam": {
                "type": ["object", "null"],
                "properties": {
                  "format": {"anyOf": [{"$ref": "#/components/schemas/TextFormatParam"}, {"type": "null"}]},
                  "verbosity": {"type": ["string", "null"], "enum": ["low", "medium", "high", null]}
                },
                "additionalProperties": false
              },
              "MultiAgentParam": {
                "type": ["object", "null"],
                "properties": {
                  "enabled": {
                    "type": "boolean",
                    "description": "Subagents are not available yet: `true` is a 400 `feature_not_available`."
                  },
                  "max_concurrent_subagents": {"type": ["integer", "null"], "minimum": 1}
                },
                "required": ["enabled"],
                "additionalProperties": false
              },
              "FunctionToolParam": {
                "type": "object",
                "properties": {
                  "type": {"type": "string", "const": "function"},
                  "name": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_-]{1,64}$",
                    "description": "Unique within the tool list."
                  },
                  "description": {"type": "string"},
                  "parameters": {"type": "object", "description": "A JSON Schema object, taken as given."},
                  "defer_loading": {"type": ["boolean", "null"], "description": "`true` is a 400 `feature_not_available`."},
                  "async": {"type": ["boolean", "null"], "description": "`true` is a 400 `feature_not_available`."}
                },
                "required": ["type", "name", "description", "parameters"],
                "additionalProperties": false,
                "description": "A client-side function tool. Tool types other than `function`, `mcp` and `web_search` (`tool_search`, `programmatic_tool_calling`, `computer_use`, `automations`) are a 400 `feature_not_available`."
              },
              "ToolsParam": {
                "type": ["array", "null"],
                "items": {
                  "oneOf": [
                    {"$ref": "#/components/schemas/FunctionToolParam"},
                    {"$ref": "#/components/schemas/McpToolParam"},
                    {"$ref": "#/components/schemas/WebSearchToolParam"}
                  ]
                },
                "description": "Replaces the whole list; `null` clears it. Must fit in 3 MiB (3,145,728 bytes) of compact JSON; function names and MCP server labels must be unique."
              },
              "InstructionsParam": {"type": ["string", "null"], "maxLength": 1048576, "description": "At most 1 MiB of UTF-8."},
              "AgentCreateRequest": {
                "type": "object",
                "properties": {
                  "model": {"$ref": "#/components/schemas/ModelName"},
                  "compaction": {"$ref": "#/components/schemas/CompactionParam"},
                  "experimental": {"$ref": "#/components/schemas/ExperimentalParam"},
                  "instructions": {"$ref": "#/components/schemas/InstructionsParam"},
                  "multi_agent": {"$ref": "#/components/schemas/MultiAgentParam"},
                  "reasoning": {"$ref": "#/components/schemas/ReasoningParam"},
                  "service_tier": {
                    "type": ["string", "null"],
                    "enum": ["auto", "default", "flex", "priority", "fast", "ultrafast", null]
                  },
                  "text": {"$ref": "#/components/schemas/TextParam"},
                  "tools": {"$ref": "#/components/schemas/PersistedToolsParam"},
                  "metadata": {"anyOf": [{"$ref": "#/components/schemas/MetadataParam"}, {"type": "null"}]},
                  "name": {"type": ["string", "null"], "maxLength": 256, "description": "At most 256 UTF-8 bytes."}
                },
                "required": ["model"],
                "additionalProperties": false
              },
              "AgentUpdateRequest": {
                "type": "object",
                "properties": {
                  "model": {"$ref": "#/components/schemas/ModelName"},
                  "compaction": {"$ref": "#/components/schemas/CompactionParam"},
                  "experimental": {"$ref": "#/components/schemas/ExperimentalParam"},
                  "instructions": {"$ref": "#/components/schemas/InstructionsParam"},
                  "multi_agent": {"$ref": "#/components/schemas/MultiAgentParam"},
                  "reasoning": {"$ref": "#/components/schemas/ReasoningParam"},
                  "service_tier": {
                    "type": ["string", "null"],
                    "enum": ["auto", "default", "flex", "priority", "fast", "ultrafast", null]
                  },
                  "text": {"$ref": "#/components/schemas/TextParam"},
                  "tools": {"$ref": "#/components/schemas/PersistedToolsParam"},
                  "metadata": {"anyOf": [{"$ref": "#/components/schemas/MetadataParam"}, {"type": "null"}]},
                  "name": {"type": ["string", "null"], "maxLength": 256, "description": "At most 256 UTF-8 bytes."}
                },
                "additionalProperties": false,
                "description": "Omitted fields stay unchanged; `null` resets a field to its default."
              },
              "SessionAgentParam": {
                "type": "object",
                "properties": {
                  "model": {"$ref": "#/components/schemas/ModelName"},
                  "compaction": {"$ref": "#/components/schemas/CompactionParam"},
                  "experimental": {"$ref": "#/components/schemas/ExperimentalParam"},
                  "instructions": {"$ref": "#/components/schemas/InstructionsParam"},
                  "multi_agent": {"$ref": "#/components/schemas/MultiAgentParam"},
                  "reasoning": {"$ref": "#/components/schemas/ReasoningParam"},
                  "service_tier": {
                    "type": ["string", "null"],
                    "enum": ["auto", "default", "flex", "priority", "fast", "ultrafast", null]
                  },
                  "text": {"$ref": "#/components/schemas/TextParam"},
                  "tools": {"$ref": "#/components/schemas/ToolsParam"}
                },
                "additionalProperties": false,
                "description": "With `agent_id`, the given fields override the saved agent; without it, `model` is required."
              },
              "FunctionTool": {
                "type": "object",
                "properties": {
                  "type": {"type": "string", "const": "function"},
                  "name": {"type": "string"},
                  "description": {"type": "string"},
                  "parameters": {"type": "object"},
                  "defer_loading": {"type": "boolean"},
                  "async": {"type": "boolean"}
                },
                "required": ["type", "name", "description", "parameters", "defer_loading"]
              },
              "Reasoning": {
                "type": "object",
                "properties": {
                  "effort": {
                    "type": ["string", "null"],
                    "enum": ["none", "minimal", "low", "medium", "high", "xhigh", "max", null]
                  },
                  "summary": {"type": ["string", "null"], "enum": ["concise", "detailed", "auto", null]}
                },
                "required": ["effort", "summary"]
              },
              "Text": {
                "type": "object",
                "properties": {
                  "format": {
                    "oneOf": [
                      {
                        "type": "object",
                        "properties": {"type": {"type": "string", "const": "text"}},
                        "required": ["type"]
                      },
                      {
                        "type": "object",
                        "properties": {"type": {"type": "string", "const": "json_schema"}, "schema": {"type": "object"}},
                        "required": ["type", "schema"]
                      }
                    ]
                  },
                  "verbosity": {"type": "string", "enum": ["low", "medium", "high"]}
                },
                "required": ["format", "verbosity"]
              },
              "MultiAgent": {
                "type": "object",
                "properties": {"enabled": {"type": "boolean"}, "max_concurrent_subagents": {"type": ["integer", "null"]}},
                "required": ["enabled", "max_concurrent_subagents"]
              },
              "Agent": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent"},
                  "created_at": {"type": "integer"},
                  "updated_at": {"type": "integer"},
                  "name": {"type": ["string", "null"]},
                  "metadata": {"$ref": "#/components/schemas/Metadata"},
                  "instructions": {"type": "string", "description": "Omitted when there are none."},
                  "model": {"type": "string"},
                  "multi_agent": {"$ref": "#/components/schemas/MultiAgent"},
                  "reasoning": {"$ref": "#/components/schemas/Reasoning"},
                  "service_tier": {"type": "string", "enum": ["auto", "default", "flex", "priority", "fast", "ultrafast"]},
                  "text": {"$ref": "#/components/schemas/Text"},
                  "tools": {"type": "array", "items": {"$ref": "#/components/schemas/AgentTool"}},
                  "compaction": {"type": "object", "properties": {"async": {"type": "boolean"}}, "required": ["async"]},
                  "experimental": {
                    "type": "object",
                    "properties": {"time_awareness": {"type": "boolean"}},
                    "required": ["time_awareness"]
                  }
                },
                "required": [
                  "id",
                  "object",
                  "created_at",
                  "updated_at",
                  "name",
                  "metadata",
                  "model",
                  "multi_agent",
                  "reasoning",
                  "service_tier",
                  "text",
                  "tools",
                  "compaction",
                  "experimental"
                ],
                "description": "A reusable agent."
              },
              "SessionAgent": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "string",
                    "description": "The saved agent's ID, or a session-local identity for an inline agent."
                  },
                  "name": {"type": ["string", "null"]},
                  "instructions": {"type": "string", "description": "Omitted when there are none."},
                  "model": {"type": "string"},
                  "multi_agent": {"$ref": "#/components/schemas/MultiAgent"},
                  "reasoning": {"$ref": "#/components/schemas/Reasoning"},
                  "service_tier": {"type": "string", "enum": ["auto", "default", "flex", "priority", "fast", "ultrafast"]},
                  "text": {"$ref": "#/components/schemas/Text"},
                  "tools": {"type": "array", "items": {"$ref": "#/components/schemas/AgentTool"}},
                  "compaction": {"type": "object", "properties": {"async": {"type": "boolean"}}, "required": ["async"]},
                  "experimental": {
                    "type": "object",
                    "properties": {"time_awareness": {"type": "boolean"}},
                    "required": ["time_awareness"]
                  }
                },
                "required": [
                  "id",
                  "name",
                  "model",
                  "multi_agent",
                  "reasoning",
                  "service_tier",
                  "text",
                  "tools",
                  "compaction",
                  "experimental"
                ]
              },
              "InputContentParam": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "input_text"}, "text": {"type": "string"}},
                    "required": ["type", "text"],
                    "additionalProperties": false
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "input_image"},
                      "image_url": {
                        "type": "string",
                        "pattern": "^([Hh][Tt][Tt][Pp][Ss]?://|[Dd][Aa][Tt][Aa]:[Ii][Mm][Aa][Gg][Ee]/)",
                        "description": "An http(s) URL or a `data:image/…` URL."
                      }
                    },
                    "required": ["type", "image_url"],
                    "additionalProperties": false
                  }
                ]
              },
              "InputMessageParam": {
                "type": "object",
                "properties": {
                  "type": {"type": ["string", "null"], "enum": ["message", null]},
                  "role": {"type": "string", "const": "user"},
                  "content": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {"$ref": "#/components/schemas/InputContentParam"}
                  }
                },
                "required": ["role", "content"],
                "additionalProperties": false
              },
              "InputMessagesParam": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": {"$ref": "#/components/schemas/InputMessageParam"}
              },
              "SessionInputEvent": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.input.message"},
                      "input": {"$ref": "#/components/schemas/InputMessagesParam"}
                    },
                    "required": ["type", "input"],
                    "additionalProperties": false,
                    "description": "Adds user messages: steers the running turn, or starts (or queues) a new one."
                  },
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "agent.session.input.cancel"}},
                    "required": ["type"],
                    "additionalProperties": false,
                    "description": "Cancels the active turn (accepted and ignored when there is none)."
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.input.tool_result"},
                      "turn_id": {"type": "string"},
                      "call_id": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 256,
                        "description": "At most 256 UTF-8 bytes."
                      },
                      "success": {"type": "boolean"},
                      "output": {
                        "anyOf": [
                          {
                            "oneOf": [
                              {"type": "string"},
                              {"type": "array", "items": {"$ref": "#/components/schemas/InputContentParam"}}
                            ]
                          },
                          {"type": "null"}
                        ]
                      },
                      "error": {"type": ["string", "null"]}
                    },
                    "required": ["type", "turn_id", "call_id", "success"],
                    "additionalProperties": false,
                    "description": "The result of a pending function call. A call that is not pending is a 400 with code `invalid_request_error` and the message `Unknown pending tool call: <call_id>`."
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.input.mcp_approval_request_result"},
                      "request_id": {"type": "string"},
                      "response": {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string", "const": "mcp_tool_call"},
                          "decision": {"type": "string", "enum": ["approve", "deny", "cancel"]}
                        },
                        "required": ["type", "decision"],
                        "additionalProperties": false
                      }
                    },
                    "required": ["type", "request_id", "response"],
                    "additionalProperties": false,
                    "description": "MCP tools are not available, so there is never a pending request: always a 400 (`Unknown pending approval request`)."
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "const": "agent.session.input.computer_use_approval_request_result"
                      },
                      "request_id": {"type": "string"},
                      "response": {"type": "object"}
                    },
                    "required": ["type", "request_id", "response"],
                    "additionalProperties": false,
                    "description": "Computer use is not available, so there is never a pending request: always a 400 (`Unknown pending approval request`)."
                  }
                ]
              },
              "SessionEventsRequest": {
                "type": "object",
                "properties": {
                  "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {"$ref": "#/components/schemas/SessionInputEvent"}
                  }
                },
                "required": ["events"],
                "additionalProperties": false,
                "description": "Every event is validated before any is applied; they apply in order, in one transaction."
              },
              "ContentPart": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "input_text"}, "text": {"type": "string"}},
                    "required": ["type", "text"]
                  },
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "input_image"}, "image_url": {"type": "string"}},
                    "required": ["type", "image_url"]
                  },
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "output_text"}, "text": {"type": "string"}},
                    "required": ["type", "text"]
                  }
                ]
              },
              "SessionItem": {
                "description": "An item of a session's history, discriminated by `type`.",
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "message"},
                      "role": {"type": "string", "enum": ["user", "assistant"]},
                      "content": {"type": "array", "items": {"$ref": "#/components/schemas/ContentPart"}},
                      "phase": {"type": ["string", "null"], "enum": ["commentary", "final_answer", null]},
                      "status": {"type": "string", "enum": ["in_progress", "completed", "incomplete"]},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["id", "type", "role", "content", "phase", "status", "turn_id"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "reasoning"},
                      "summary": {
                        "type": "array",
                        "items": {
                          "type": "object",
                          "properties": {"type": {"type": "string", "const": "summary_text"}, "text": {"type": "string"}},
                          "required": ["type", "text"]
                        }
                      },
                      "status": {"type": ["string", "null"], "enum": ["in_progress", "completed", "incomplete", null]},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["id", "type", "summary", "turn_id"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "function_call"},
                      "call_id": {"type": "string"},
                      "name": {"type": "string"},
                      "arguments": {"description": "As the model produced it: usually a JSON string encoding an object."},
                      "status": {"type": "string", "enum": ["in_progress", "completed", "failed", "incomplete"]},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["id", "type", "call_id", "name", "arguments", "status", "turn_id"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "function_call_output"},
                      "call_id": {"type": "string"},
                      "output": {
                        "anyOf": [
                          {
                            "oneOf": [
                              {"type": "string"},
                              {"type": "array", "items": {"$ref": "#/components/schemas/ContentPart"}}
                            ]
                          },
                          {"type": "null"}
                        ]
                      },
                      "error": {"type": ["string", "null"]},
                      "status": {"type": "string", "enum": ["in_progress", "completed", "failed", "incomplete"]},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["id", "type", "call_id", "status", "turn_id"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "command_execution"},
                      "command": {"type": "string"},
                      "cwd": {"type": ["string", "null"]},
                      "status": {"type": "string", "enum": ["in_progress", "completed", "failed", "incomplete"]},
                      "exit_code": {"type": ["integer", "null"]},
                      "output": {"type": ["string", "null"]},
                      "duration_ms": {"type": ["integer", "null"]},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["id", "type", "command", "status", "turn_id"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "compaction"},
                      "turn_id": {"type": "string"},
                      "status": {"type": "string"},
                      "summary": {"type": "string"},
                      "reason": {"type": "string", "enum": ["threshold", "context_length_exceeded"]},
                      "mode": {"type": "string", "enum": ["blocking", "async"]},
                      "input_tokens_before": {"type": "integer"}
                    },
                    "required": ["id", "type", "turn_id", "status", "summary"],
                    "description": "The point where a hand-off summary replaced the older history for the model (the history itself is kept)."
                  },
                  {
                    "type": "object",
                    "description": "Project instructions from the workspace's AGENTS.md, given to the model at the start of a turn of a hosted session (when new or changed).",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "agents_md"},
                      "turn_id": {"type": "string"},
                      "status": {"type": "string", "const": "completed"},
                      "path": {"type": "string"},
                      "bytes": {"type": "integer", "description": "The file's size; at most 32 KiB of it is given."},
                      "content": {"type": "string", "description": "What the model was given."}
                    },
                    "required": ["id", "type", "turn_id", "status", "path", "bytes", "content"]
                  },
                  {
                    "type": "object",
                    "description": "A call of an MCP server's tool, run by the runtime.",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "mcp_call"},
                      "arguments": {},
                      "error": {"description": "The server's error text, or null."},
                      "name": {"type": "string"},
                      "output": {"description": "The result text (or its content blocks), or null."},
                      "server_label": {"type": "string"},
                      "status": {"type": "string", "enum": ["in_progress", "completed", "failed", "incomplete"]},
                      "turn_id": {"type": "string"}
                    },
                    "required": [
                      "id",
                      "type",
                      "arguments",
                      "error",
                      "name",
                      "output",
                      "server_label",
                      "status",
                      "turn_id"
                    ]
                  },
                  {
                    "type": "object",
                    "description": "A web search or page read, run by the runtime. `incomplete` when the action failed.",
                    "properties": {
                      "id": {"type": "string"},
                      "type": {"type": "string", "const": "web_search_call"},
                      "action": {
                        "oneOf": [
                          {
                            "type": "object",
                            "properties": {
                              "type": {"type": "string", "const": "search"},
                              "query": {"type": ["string", "null"]},
                              "queries": {"type": ["array", "null"], "items": {"type": "string"}}
                            },
                            "required": ["type"]
                          },
                          {
                            "type": "object",
                            "properties": {
                              "type": {"type": "string", "const": "open_page"},
                              "url": {"type": ["string", "null"]}
                            },
                            "required": ["type"]
                          },
                          {
                            "type": "object",
                            "properties": {
                              "type": {"type": "string", "const": "find_in_page"},
                              "url": {"type": ["string", "null"]},
                              "pattern": {"type": ["string", "null"]}
                            },
                            "required": ["type"]
                          },
                          {
                            "type": "object",
                            "properties": {"type": {"type": "string", "const": "other"}},
                            "required": ["type"]
                          }
                        ]
                      },
                      "status": {"type": "string", "enum": ["in_progress", "completed", "incomplete"]},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["id", "type", "status", "turn_id"]
                  }
                ]
              },
              "RequiredAction": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "function_call"},
                      "arguments": {},
                      "call_id": {"type": "string"},
                      "name": {"type": "string"},
                      "turn_id": {"type": "string"}
                    },
                    "required": ["type", "arguments", "call_id", "name", "turn_id"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "mcp_approval_request"},
                      "request_id": {"type": "string"},
                      "turn_id": {"type": "string"},
                      "request": {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string", "const": "mcp_tool_call"},
                          "server_label": {"type": "string"},
                          "message": {"type": "string"},
                          "name": {"type": ["string", "null"]},
                          "arguments": {}
                        },
                        "required": ["type", "server_label", "message", "name", "arguments"]
                      }
                    },
                    "required": ["type", "request_id", "turn_id", "request"]
                  }
                ]
              },
              "PromptCacheOptions": {
                "type": "object",
                "properties": {"ttl": {"type": "string", "enum": ["30m", "12h"]}},
                "required": ["ttl"]
              },
              "HostedFile": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "inline"},
                      "id": {"type": "string"},
                      "path": {"type": "string"},
                      "size_bytes": {"type": "integer"}
                    },
                    "required": ["type", "id", "path", "size_bytes"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "file_id"},
                      "id": {"type": "string"},
                      "file_id": {"type": "string"},
                      "path": {"type": "string"},
                      "size_bytes": {"type": "integer"}
                    },
                    "required": ["type", "id", "file_id", "path", "size_bytes"]
                  }
                ],
                "description": "A file placed in the workspace (metadata only; contents are never returned)."
              },
              "Network": {
                "type": "object",
                "properties": {
                  "access": {"type": "string", "enum": ["enabled", "disabled", "restricted"]},
                  "allowed_domains": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["access", "allowed_domains"]
              },
              "Packages": {
                "type": "object",
                "properties": {
                  "npm": {"type": "array", "items": {"type": "string"}},
                  "python": {"type": "array", "items": {"type": "string"}},
                  "system": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["npm", "python", "system"]
              },
              "SessionEnvironment": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "none"}},
                    "required": ["type"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "openai_hosted"},
                      "id": {"type": "string"},
                      "capability_directories": {"type": "array", "items": {"type": "string"}},
                      "container_size": {"type": ["string", "null"], "enum": ["small", "medium", "large", null]},
                      "files": {"type": "array", "items": {"$ref": "#/components/schemas/HostedFile"}},
                      "network": {"$ref": "#/components/schemas/Network"},
                      "packages": {"$ref": "#/components/schemas/Packages"},
                      "plugins": {"type": "array"},
                      "skills": {
                        "type": "array",
                        "items": {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "inline"},
                            "name": {"type": "string"},
                            "description": {"type": "string"}
                          },
                          "required": ["type", "name", "description"]
                        }
                      }
                    },
                    "required": [
                      "type",
                      "id",
                      "capability_directories",
                      "files",
                      "network",
                      "packages",
                      "plugins",
                      "skills"
                    ],
                    "description": "`env`, `setup_commands`, blocked domains and file contents are never returned."
                  }
                ]
              },
              "AgentSession": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.session"},
                  "agent": {"$ref": "#/components/schemas/SessionAgent"},
                  "created_at": {"type": "integer"},
                  "last_active_at": {"type": "integer"},
                  "environment": {"$ref": "#/components/schemas/SessionEnvironment"},
                  "error": {"type": ["string", "null"]},
                  "metadata": {"$ref": "#/components/schemas/Metadata"},
                  "required_actions": {"type": "array", "items": {"$ref": "#/components/schemas/RequiredAction"}},
                  "status": {"type": "string", "enum": ["idle", "in_progress", "requires_action", "failed"]},
                  "usage": {"anyOf": [{"$ref": "#/components/schemas/TokenUsage"}, {"type": "null"}]},
                  "vault_ids": {"type": "array", "items": {"type": "string"}},
                  "prompt_cache_options": {"$ref": "#/components/schemas/PromptCacheOptions"},
                  "review": {
                    "type": "string",
                    "enum": ["none", "auto_review"],
                    "description": "Omitted when review is `none`."
                  }
                },
                "required": [
                  "id",
                  "object",
                  "agent",
                  "created_at",
                  "last_active_at",
                  "environment",
                  "error",
                  "metadata",
                  "required_actions",
                  "status",
                  "usage",
                  "vault_ids"
                ]
              },
              "TurnError": {
                "type": "object",
                "properties": {
                  "code": {
                    "type": "string",
                    "enum": [
                      "context_length_exceeded",
                      "max_output_tokens",
                      "usage_limit_exceeded",
                      "project_spend_limit_exceeded",
                      "organization_spend_limit_exceeded",
                      "organization_usage_limit_exceeded",
                      "billing_not_active",
                      "credit_balance_exhausted",
                      "rate_limit_exceeded",
                      "flex_unavailable",
                      "server_overloaded",
                      "cyber_policy",
                      "misalignment_policy_violation",
                      "connection_failed",
                      "server_error",
                      "authentication_error",
                      "invalid_request",
                      "resource_not_found",
                      "sandbox_error",
                      "executor_version_incompatible",
                      "active_turn_not_steerable",
                      "request_timeout",
                      "internal_error"
                    ]
                  },
                  "message": {"type": "string"}
                },
                "required": ["code", "message"]
              },
              "Turn": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.session.turn"},
                  "session_id": {"type": "string"},
                  "agent_id": {"type": "string"},
                  "status": {
                    "type": "string",
                    "enum": ["queued", "in_progress", "waiting", "completed", "failed", "cancelled"]
                  },
                  "created_at": {"type": "integer"},
                  "started_at": {"type": ["integer", "null"]},
                  "completed_at": {"type": ["integer", "null"]},
                  "error": {"anyOf": [{"$ref": "#/components/schemas/TurnError"}, {"type": "null"}]},
                  "subagent_id": {"type": "null", "description": "Always null: there are no subagents in this version."},
                  "usage": {"anyOf": [{"$ref": "#/components/schemas/TokenUsage"}, {"type": "null"}]},
                  "prompt_cache_options": {"$ref": "#/components/schemas/PromptCacheOptions"}
                },
                "required": [
                  "id",
                  "object",
                  "session_id",
                  "agent_id",
                  "status",
                  "created_at",
                  "started_at",
                  "completed_at",
                  "error",
                  "subagent_id",
                  "usage"
                ]
              },
              "Subagent": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.session.subagent"},
                  "closed_at": {"type": ["integer", "null"]},
                  "name": {"type": ["string", "null"]},
                  "opened_at": {"type": "integer"},
                  "parent_agent_id": {"type": "string"},
                  "session_id": {"type": "string"},
                  "status": {"type": "string", "enum": ["active", "closed"]}
                },
                "required": ["id", "object", "opened_at", "parent_agent_id", "session_id", "status"],
                "description": "Subagents are not available yet: listings are always empty."
              },
              "SessionTrace": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.session.trace"},
                  "created_at": {"type": "integer"},
                  "otlp": {"type": "object"},
                  "session_id": {"type": "string"}
                },
                "required": ["id", "object", "created_at", "otlp", "session_id"],
                "description": "Traces are not published yet: listings are always empty."
              },
              "SessionArtifact": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.session.artifact"},
                  "created_at": {"type": "integer"},
                  "environment_id": {"type": "string"},
                  "path": {"type": "string"},
                  "session_id": {"type": "string"},
                  "size_bytes": {"type": "integer"},
                  "turn_id": {"type": "string"}
                },
                "required": [
                  "id",
                  "object",
                  "created_at",
                  "environment_id",
                  "path",
                  "session_id",
                  "size_bytes",
                  "turn_id"
                ]
              },
              "HostedFileParam": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "inline"},
                      "data": {
                        "type": "string",
                        "pattern": "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
                        "description": "Standard base64; at most 4 MiB decoded."
                      },
                      "path": {
                        "type": "string",
                        "maxLength": 4096,
                        "pattern": "^/workspace(/([^/\\\\\\u0000.][^/\\\\\\u0000]*|\\.[^/\\\\\\u0000.][^/\\\\\\u0000]*|\\.\\.[^/\\\\\\u0000]+))+$",
                        "description": "An absolute, normalised path inside /workspace/ (at most 4096 UTF-8 bytes). Paths whose first component under /workspace is `.codex`, `.managed-agents`, `.managed-agents-*` or `.cma`, and `/workspace/outputs` itself, are reserved (400)."
                      }
                    },
                    "required": ["type", "data", "path"],
                    "additionalProperties": false
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "file_id"},
                      "file_id": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "description": "A Files API file of this project (400 when there is none)."
                      },
                      "path": {
                        "type": "string",
                        "maxLength": 4096,
                        "pattern": "^/workspace(/([^/\\\\\\u0000.][^/\\\\\\u0000]*|\\.[^/\\\\\\u0000.][^/\\\\\\u0000]*|\\.\\.[^/\\\\\\u0000]+))+$",
                        "description": "An absolute, normalised path inside /workspace/ (at most 4096 UTF-8 bytes). Paths whose first component under /workspace is `.codex`, `.managed-agents`, `.managed-agents-*` or `.cma`, and `/workspace/outputs` itself, are reserved (400)."
                      }
                    },
                    "required": ["type", "file_id", "path"],
                    "additionalProperties": false
                  }
                ]
              },
              "NetworkParam": {
                "type": ["object", "null"],
                "properties": {
                  "access": {"type": "string", "enum": ["enabled", "disabled", "restricted"]},
                  "allowed_domains": {
                    "type": ["array", "null"],
                    "maxItems": 256,
                    "items": {"type": "string", "maxLength": 254},
                    "description": "Host names (a domain covers its subdomains; no wildcards). Only with `access: restricted`."
                  },
                  "blocked_domains": {
                    "type": ["array", "null"],
                    "maxItems": 256,
                    "items": {"type": "string", "maxLength": 254},
                    "description": "Only with `access: restricted` and no `allowed_domains`. Never returned."
                  }
                },
                "required": ["access"],
                "additionalProperties": false,
                "description": "`null` selects the default policy (`disabled`)."
              },
              "PackagesParam": {
                "type": ["object", "null"],
                "properties": {
                  "system": {
                    "type": ["array", "null"],
                    "maxItems": 64,
                    "items": {
                      "type": "string",
                      "maxLength": 200,
                      "pattern": "^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9+.~:-]+)?$"
                    },
                    "description": "Debian package names, optionally `=version`."
                  },
                  "python": {
                    "type": ["array", "null"],
                    "maxItems": 64,
                    "items": {
                      "type": "string",
                      "maxLength": 200,
                      "pattern": "^[A-Za-z0-9][A-Za-z0-9._\\-\\[\\],=<>!~*+]*$"
                    },
                    "description": "PyPI requirements (wheels only)."
                  },
                  "npm": {
                    "type": ["array", "null"],
                    "maxItems": 64,
                    "items": {
                      "type": "string",
                      "maxLength": 214,
                      "pattern": "^[A-Za-z0-9@^~<>=*+][A-Za-z0-9@/._\\-^~<>=*+]*$"
                    },
                    "description": "npm package specifications (no `..`, at most one `/`)."
                  }
                },
                "additionalProperties": false
              },
              "SetupCommandParam": {
                "type": "object",
                "properties": {
                  "command": {"type": "string", "minLength": 1, "pattern": "^[^\\u0000]*$"},
                  "cwd": {
                    "type": ["string", "null"],
                    "description": "`/workspace` (the default) or a workspace path."
                  }
                },
                "required": ["command"],
                "additionalProperties": false
              },
              "HostedEnvironmentParam": {
                "type": "object",
                "properties": {
                  "type": {"type": "string", "const": "openai_hosted"},
                  "environment_id": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "maxLength": 128,
                    "description": "A prewarmed environment; cannot be combined with a template or any inline field."
                  },
                  "environment_template_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 128},
                  "container_size": {"type": ["string", "null"], "enum": ["small", "medium", "large", null]},
                  "capability_directories": {
                    "type": ["array", "null"],
                    "description": "Capability directories are not available yet: a non-empty list is a 400 `feature_not_available`."
                  },
                  "desktop": {
                    "type": ["object", "null"],
                    "properties": {"enabled": {"type": ["boolean", "null"]}},
                    "description": "The desktop is not available yet: `enabled: true` is a 400 `feature_not_available`."
                  },
                  "env": {
                    "type": ["object", "null"],
                    "maxProperties": 128,
                    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 256},
                    "additionalProperties": {"type": "string", "pattern": "^[^\\u0000]*$"},
                    "description": "Environment variables for the agent (confidential: never returned)."
                  },
                  "files": {
                    "type": ["array", "null"],
                    "items": {"$ref": "#/components/schemas/HostedFileParam"},
                    "description": "Distinct paths; at most 8 MiB of inline data in all."
                  },
                  "network": {"$ref": "#/components/schemas/NetworkParam"},
                  "packages": {"$ref": "#/components/schemas/PackagesParam"},
                  "plugins": {
                    "type": ["array", "null"],
                    "description": "Plugins are not available yet: a non-empty list is a 400 `feature_not_available`."
                  },
                  "setup_commands": {
                    "type": ["array", "null"],
                    "maxItems": 32,
                    "items": {"$ref": "#/components/schemas/SetupCommandParam"},
                    "description": "Confidential: never returned."
                  },
                  "skills": {
                    "type": ["array", "null"],
                    "description": "Replaces the template's list. Inline ZIP archives with a SKILL.md, at most 32; checked whole (a malformed or oversized archive, or entries escaping it, are a 400). `skill_reference` is a 400 `feature_not_available`.",
                    "items": {
                      "oneOf": [
                        {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "inline"},
                            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                            "description": {"type": "string"},
                            "source": {
                              "type": "object",
                              "properties": {
                                "type": {"type": "string", "const": "base64"},
                                "media_type": {"type": "string", "const": "application/zip"},
                                "data": {"type": "string"}
                              },
                              "required": ["type", "media_type", "data"],
                              "additionalProperties": false
                            }
                          },
                          "required": ["type", "name", "description", "source"],
                          "additionalProperties": false
                        },
                        {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "skill_reference"},
                            "skill_id": {"type": "string"},
                            "version": {"type": ["string", "null"]}
                          },
                          "required": ["type", "skill_id"]
                        }
                      ]
                    }
                  }
                },
                "required": ["type"],
                "additionalProperties": false,
                "description": "Hosted environments need bubblewrap on the server; without it they are a 400 `feature_not_available`."
              },
              "EnvironmentParam": {
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "none"}},
                    "required": ["type"],
                    "additionalProperties": false
                  },
                  {"$ref": "#/components/schemas/HostedEnvironmentParam"},
                  {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": "self_hosted"}},
                    "required": ["type"],
                    "description": "Self-hosted environments are not available yet: a 400 `feature_not_available`."
                  }
                ]
              },
              "SessionCreateRequest": {
                "type": "object",
                "properties": {
                  "environment": {"$ref": "#/components/schemas/EnvironmentParam"},
                  "agent": {"anyOf": [{"$ref": "#/components/schemas/SessionAgentParam"}, {"type": "null"}]},
                  "agent_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 128},
                  "input": {
                    "anyOf": [
                      {
                        "oneOf": [
                          {
                            "type": "string",
                            "minLength": 1,
                            "description": "Shorthand for one user message."
                          },
                          {"$ref": "#/components/schemas/InputMessagesParam"}
                        ],
                        "description": "Required when `environment.type` is `none` or `stream` is true."
                      },
                      {"type": "null"}
                    ]
                  },
                  "metadata": {"anyOf": [{"$ref": "#/components/schemas/MetadataParam"}, {"type": "null"}]},
                  "prompt_cache_options": {
                    "type": ["object", "null"],
                    "properties": {"ttl": {"type": ["string", "null"], "enum": ["30m", "12h", null]}},
                    "additionalProperties": false
                  },
                  "review": {"type": "string", "enum": ["none", "auto_review"]},
                  "stream": {
                    "type": ["boolean", "null"],
                    "description": "true: the response is an SSE stream of session events."
                  },
                  "stream_options": {
                    "type": ["object", "null"],
                    "properties": {"include_obfuscation": {"type": ["boolean", "null"]}},
                    "additionalProperties": false,
                    "description": "Only allowed when `stream` is true."
                  },
                  "vault_ids": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                    "description": "Vaults are not available yet: a non-empty list is a 400 `feature_not_available`."
                  }
                },
                "required": ["environment"],
                "additionalProperties": false,
                "description": "Either `agent_id` or `agent` (with `model`) must be given."
              },
              "SessionUpdateRequest": {
                "type": "object",
                "properties": {
                  "agent": {
                    "type": "object",
                    "properties": {
                      "model": {"$ref": "#/components/schemas/ModelName"},
                      "reasoning": {
                        "type": "object",
                        "properties": {
                          "effort": {
                            "type": ["string", "null"],
                            "enum": ["none", "minimal", "low", "medium", "high", "xhigh", "max", null]
                          }
                        },
                        "additionalProperties": false,
                        "description": "Not nullable; `effort: null` resets to the model default."
                      },
                      "service_tier": {
                        "type": ["string", "null"],
                        "enum": ["auto", "default", "flex", "priority", "fast", "ultrafast", null]
                      },
                      "tools": {"$ref": "#/components/schemas/ToolsParam"}
                    },
                    "additionalProperties": false,
                    "description": "Not nullable."
                  },
                  "metadata": {"anyOf": [{"$ref": "#/components/schemas/MetadataParam"}, {"type": "null"}]},
                  "prompt_cache_options": {
                    "type": ["object", "null"],
                    "properties": {"ttl": {"type": ["string", "null"], "enum": ["30m", "12h", null]}},
                    "additionalProperties": false
                  },
                  "review": {"type": "string", "enum": ["none", "auto_review"]}
                },
                "additionalProperties": false,
                "description": "Omitted fields stay unchanged."
              },
              "EnvironmentCreateRequest": {
                "type": "object",
                "properties": {
                  "environment": {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "openai_hosted"},
                      "environment_template_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 128},
                      "capability_directories": {
                        "type": ["array", "null"],
                        "description": "Capability directories are not available yet: a non-empty list is a 400 `feature_not_available`."
                      },
                      "desktop": {
                        "type": ["object", "null"],
                        "properties": {"enabled": {"type": ["boolean", "null"]}},
                        "description": "The desktop is not available yet: `enabled: true` is a 400 `feature_not_available`."
                      },
                      "env": {
                        "type": ["object", "null"],
                        "maxProperties": 128,
                        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 256},
                        "additionalProperties": {"type": "string", "pattern": "^[^\\u0000]*$"},
                        "description": "Environment variables for the agent (confidential: never returned)."
                      },
                      "files": {
                        "type": ["array", "null"],
                        "items": {"$ref": "#/components/schemas/HostedFileParam"},
                        "description": "Distinct paths; at most 8 MiB of inline data in all."
                      },
                      "network": {"$ref": "#/components/schemas/NetworkParam"},
                      "packages": {"$ref": "#/components/schemas/PackagesParam"},
                      "plugins": {
                        "type": ["array", "null"],
                        "description": "Plugins are not available yet: a non-empty list is a 400 `feature_not_available`."
                      },
                      "setup_commands": {
                        "type": ["array", "null"],
                        "maxItems": 32,
                        "items": {"$ref": "#/components/schemas/SetupCommandParam"},
                        "description": "Confidential: never returned."
                      },
                      "skills": {
                        "type": ["array", "null"],
                        "description": "Replaces the template's list. Inline ZIP archives with a SKILL.md, at most 32; checked whole (a malformed or oversized archive, or entries escaping it, are a 400). `skill_reference` is a 400 `feature_not_available`.",
                        "items": {
                          "oneOf": [
                            {
                              "type": "object",
                              "properties": {
                                "type": {"type": "string", "const": "inline"},
                                "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                                "description": {"type": "string"},
                                "source": {
                                  "type": "object",
                                  "properties": {
                                    "type": {"type": "string", "const": "base64"},
                                    "media_type": {"type": "string", "const": "application/zip"},
                                    "data": {"type": "string"}
                                  },
                                  "required": ["type", "media_type", "data"],
                                  "additionalProperties": false
                                }
                              },
                              "required": ["type", "name", "description", "source"],
                              "additionalProperties": false
                            },
                            {
                              "type": "object",
                              "properties": {
                                "type": {"type": "string", "const": "skill_reference"},
                                "skill_id": {"type": "string"},
                                "version": {"type": ["string", "null"]}
                              },
                              "required": ["type", "skill_id"]
                            }
                          ]
                        }
                      }
                    },
                    "required": ["type"],
                    "additionalProperties": false
                  },
                  "vault_ids": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                    "description": "Vaults are not available yet: a non-empty list is a 400 `feature_not_available`."
                  }
                },
                "required": ["environment"],
                "additionalProperties": false
              },
              "EnvironmentTemplateRequest": {
                "type": "object",
                "properties": {
                  "capability_directories": {
                    "type": ["array", "null"],
                    "description": "Capability directories are not available yet: a non-empty list is a 400 `feature_not_available`."
                  },
                  "desktop": {
                    "type": ["object", "null"],
                    "properties": {"enabled": {"type": ["boolean", "null"]}},
                    "description": "The desktop is not available yet: `enabled: true` is a 400 `feature_not_available`."
                  },
                  "env": {
                    "type": ["object", "null"],
                    "maxProperties": 128,
                    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 256},
                    "additionalProperties": {"type": "string", "pattern": "^[^\\u0000]*$"},
                    "description": "Environment variables for the agent (confidential: never returned)."
                  },
                  "files": {
                    "type": ["array", "null"],
                    "items": {"$ref": "#/components/schemas/HostedFileParam"},
                    "description": "Distinct paths; at most 8 MiB of inline data in all."
                  },
                  "network": {"$ref": "#/components/schemas/NetworkParam"},
                  "packages": {"$ref": "#/components/schemas/PackagesParam"},
                  "plugins": {
                    "type": ["array", "null"],
                    "description": "Plugins are not available yet: a non-empty list is a 400 `feature_not_available`."
                  },
                  "setup_commands": {
                    "type": ["array", "null"],
                    "maxItems": 32,
                    "items": {"$ref": "#/components/schemas/SetupCommandParam"},
                    "description": "Confidential: never returned."
                  },
                  "skills": {
                    "type": ["array", "null"],
                    "description": "Replaces the template's list. Inline ZIP archives with a SKILL.md, at most 32; checked whole (a malformed or oversized archive, or entries escaping it, are a 400). `skill_reference` is a 400 `feature_not_available`.",
                    "items": {
                      "oneOf": [
                        {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "inline"},
                            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                            "description": {"type": "string"},
                            "source": {
                              "type": "object",
                              "properties": {
                                "type": {"type": "string", "const": "base64"},
                                "media_type": {"type": "string", "const": "application/zip"},
                                "data": {"type": "string"}
                              },
                              "required": ["type", "media_type", "data"],
                              "additionalProperties": false
                            }
                          },
                          "required": ["type", "name", "description", "source"],
                          "additionalProperties": false
                        },
                        {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "skill_reference"},
                            "skill_id": {"type": "string"},
                            "version": {"type": ["string", "null"]}
                          },
                          "required": ["type", "skill_id"]
                        }
                      ]
                    }
                  },
                  "name": {
                    "type": ["string", "null"],
                    "maxLength": 256,
                    "description": "At most 256 UTF-8 bytes; `null` clears it."
                  }
                },
                "additionalProperties": false,
                "description": "On update, every given field replaces the stored one; `network: null` resets the policy to `disabled`."
              },
              "EnvironmentInfo": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.environment"},
                  "type": {"type": "string", "const": "openai_hosted"},
                  "status": {
                    "type": "string",
                    "enum": ["pending", "ready", "connected", "disconnected", "suspended", "expired", "failed"]
                  },
                  "files": {"type": "array", "items": {"$ref": "#/components/schemas/HostedFile"}},
                  "plugins": {"type": "array"},
                  "skills": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "type": {"type": "string", "const": "inline"},
                        "name": {"type": "string"},
                        "description": {"type": "string"}
                      },
                      "required": ["type", "name", "description"]
                    }
                  }
                },
                "required": ["id", "object", "type", "status", "files", "plugins", "skills"]
              },
              "EnvironmentFile": {
                "type": "object",
                "properties": {
                  "environment_id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.environment.file"},
                  "path": {"type": "string"},
                  "size_bytes": {"type": "integer"}
                },
                "required": ["environment_id", "object", "path", "size_bytes"]
              },
              "EnvironmentFilePage": {
                "type": "object",
                "properties": {
                  "object": {"type": "string", "const": "list"},
                  "data": {"type": "array", "items": {"$ref": "#/components/schemas/EnvironmentFile"}},
                  "has_more": {"type": "boolean"},
                  "next": {
                    "type": ["string", "null"],
                    "description": "The `page` token of the next page; null on the last page."
                  }
                },
                "required": ["object", "data", "has_more", "next"]
              },
              "EnvironmentTemplate": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "agent.environment.template"},
                  "name": {"type": "string"},
                  "capability_directories": {"type": "array", "items": {"type": "string"}},
                  "created_at": {"type": "integer"},
                  "updated_at": {"type": "integer"},
                  "files": {
                    "type": "array",
                    "items": {
                      "oneOf": [
                        {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "inline"},
                            "path": {"type": "string"},
                            "size_bytes": {"type": "integer"}
                          },
                          "required": ["type", "path", "size_bytes"]
                        },
                        {
                          "type": "object",
                          "properties": {
                            "type": {"type": "string", "const": "file_id"},
                            "file_id": {"type": "string"},
                            "path": {"type": "string"}
                          },
                          "required": ["type", "file_id", "path"]
                        }
                      ]
                    }
                  },
                  "network": {"$ref": "#/components/schemas/Network"},
                  "packages": {"$ref": "#/components/schemas/Packages"},
                  "plugins": {"type": "array"},
                  "skills": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "type": {"type": "string", "const": "inline"},
                        "name": {"type": "string"},
                        "description": {"type": "string"}
                      },
                      "required": ["type", "name", "description"]
                    }
                  }
                },
                "required": [
                  "id",
                  "object",
                  "capability_directories",
                  "created_at",
                  "updated_at",
                  "files",
                  "network",
                  "packages",
                  "plugins",
                  "skills"
                ],
                "description": "`env`, `setup_commands` and blocked domains are never returned. `name` is omitted when unset."
              },
              "FileObject": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "object": {"type": "string", "const": "file"},
                  "bytes": {"type": "integer"},
                  "created_at": {"type": "integer"},
                  "expires_at": {"type": "null"},
                  "filename": {"type": "string"},
                  "purpose": {"type": "string"},
                  "status": {"type": "string", "const": "processed"},
                  "status_details": {"type": "null"}
                },
                "required": ["id", "object", "bytes", "created_at", "filename", "purpose", "status"]
              },
              "FileUploadRequest": {
                "type": "object",
                "required": ["file", "purpose"],
                "properties": {
                  "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "The file part (with a filename); at most 64 MiB."
                  },
                  "purpose": {
                    "type": "string",
                    "enum": ["user_data", "assistants", "batch", "fine-tune", "vision", "evals"]
                  }
                }
              },
              "SessionEvent": {
                "description": "An `AgentSessionEvent`, discriminated by `type`.",
                "oneOf": [
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "agent.session.created",
                          "agent.session.in_progress",
                          "agent.session.requires_action",
                          "agent.session.idle",
                          "agent.session.failed"
                        ]
                      },
                      "event_id": {"type": "string"},
                      "session": {"$ref": "#/components/schemas/AgentSession"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "error"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "error": {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string"},
                          "message": {"type": "string"},
                          "code": {"type": ["string", "null"]},
                          "param": {"type": ["string", "null"]}
                        },
                        "required": ["type", "message", "code", "param"]
                      },
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "error"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": ["agent.session.turn.created", "agent.session.turn.in_progress"]
                      },
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": "string"},
                      "turn": {"$ref": "#/components/schemas/Turn"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "turn_id", "turn"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "agent.session.turn.completed",
                          "agent.session.turn.failed",
                          "agent.session.turn.cancelled"
                        ]
                      },
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": "string"},
                      "turn": {"$ref": "#/components/schemas/Turn"},
                      "usage": {"anyOf": [{"$ref": "#/components/schemas/TokenUsage"}, {"type": "null"}]},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "turn_id", "turn", "usage"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.turn.item.added"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item": {"$ref": "#/components/schemas/SessionItem"},
                      "output_index": {"type": ["integer", "null"]},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item", "output_index"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.turn.item.done"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item": {"$ref": "#/components/schemas/SessionItem"},
                      "output_index": {"type": "integer"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item", "output_index"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": ["agent.session.turn.content_part.added", "agent.session.turn.content_part.done"]
                      },
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "content_index": {"type": "integer"},
                      "part": {
                        "type": "object",
                        "properties": {"type": {"type": "string", "const": "output_text"}, "text": {"type": "string"}},
                        "required": ["type", "text"]
                      },
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "content_index", "part"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.turn.output_text.delta"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "content_index": {"type": "integer"},
                      "delta": {"type": "string"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "content_index", "delta"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.turn.output_text.done"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "content_index": {"type": "integer"},
                      "text": {"type": "string"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "content_index", "text"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "agent.session.turn.reasoning_summary_part.added",
                          "agent.session.turn.reasoning_summary_part.done"
                        ]
                      },
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "summary_index": {"type": "integer"},
                      "part": {
                        "type": "object",
                        "properties": {"type": {"type": "string", "const": "summary_text"}, "text": {"type": "string"}},
                        "required": ["type", "text"]
                      },
                      "status": {
                        "type": "string",
                        "const": "incomplete",
                        "description": "On `.done`, when the summary was interrupted."
                      },
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "summary_index", "part"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.turn.reasoning_summary_text.delta"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "summary_index": {"type": "integer"},
                      "delta": {"type": "string"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "summary_index", "delta"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.turn.reasoning_summary_text.done"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "summary_index": {"type": "integer"},
                      "text": {"type": "string"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "summary_index", "text"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.output.command_execution_output.delta"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "item_id": {"type": "string"},
                      "output_index": {"type": "integer"},
                      "delta": {"type": "string"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "item_id", "output_index", "delta"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "agent.session.environment.pending",
                          "agent.session.environment.ready",
                          "agent.session.environment.connected",
                          "agent.session.environment.disconnected",
                          "agent.session.environment.suspended",
                          "agent.session.environment.expired",
                          "agent.session.environment.failed"
                        ]
                      },
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "environment": {
                        "type": "object",
                        "properties": {
                          "id": {"type": "string"},
                          "type": {"type": "string"},
                          "status": {
                            "type": "string",
                            "enum": [
                              "pending",
                              "ready",
                              "connected",
                              "disconnected",
                              "suspended",
                              "expired",
                              "failed"
                            ]
                          },
                          "error": {
                            "type": ["object", "null"],
                            "properties": {
                              "code": {"type": "string"},
                              "message": {"type": "string"},
                              "type": {"type": "string"}
                            },
                            "required": ["code", "message", "type"]
                          }
                        },
                        "required": ["id", "type", "status", "error"]
                      },
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "environment"]
                  },
                  {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "const": "agent.session.environment.reset"},
                      "event_id": {"type": "string"},
                      "session_id": {"type": "string"},
                      "turn_id": {"type": ["string", "null"]},
                      "environment_id": {"type": "string"},
                      "reset_count": {"type": "integer"},
                      "obfuscation": {"type": "string", "description": "Random padding (delta events, unless disabled)."}
                    },
                    "required": ["type", "event_id", "session_id", "environment_id", "reset_count"]
                  }
                ]
              },
              "SSEEvent": {
                "type": "object",
                "description": "One server-sent event: `event: <type>` and `data: <SessionEvent JSON>`. The create stream ends with `data: [DONE]`. No `id:` lines are sent; keep-alives are `: ping` comments (every 15 s).",
                "required": ["data"],
                "properties": {
                  "event": {"type": "string"},
                  "data": {
                    "anyOf": [
                      {"type": "string", "const": "[DONE]"},
                      {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"$ref": "#/components/schemas/SessionEvent"}
                      }
                    ]
                  }
                }
              },
              "McpToolParam": {
                "type": "object",
                "description": "The tools of an MCP server. stdio servers run in a sandbox: the session's (`connection_origin: environment`, which needs a hosted environment) or one of their own (`service`).",
                "properties": {
                  "type": {"type": "string", "const": "mcp"},
                  "server_label": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_-]{1,64}$",
                    "description": "Unique among the agent's MCP servers. The tools are offered to the model as `mcp__<server_label>__<tool>`."
                  },
                  "transport": {
                    "oneOf": [
                      {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string", "const": "http"},
                          "server_url": {"type": "string", "description": "An http(s) URL; reached from the runtime."},
                          "headers": {
                            "type": ["object", "null"],
                            "additionalProperties": {"type": "string"},
                            "description": "Sent with every request. Confidential: never echoed."
                          },
                          "authorization": {
                            "type": ["string", "null"],
                            "description": "Sent as `Authorization` (a bare token as `Bearer <token>`). Confidential: never echoed or logged."
                          }
                        },
                        "required": ["type", "server_url"],
                        "additionalProperties": false
                      },
                      {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string", "const": "stdio"},
                          "command": {"type": "string"},
                          "cwd": {"type": "string", "description": "An absolute path."},
                          "args": {"type": ["array", "null"], "items": {"type": "string"}},
                          "env_vars": {
                            "type": ["array", "null"],
                            "items": {"type": "string"},
                            "description": "Names of the hosted environment's `env` the process inherits."
                          },
                          "env": {
                            "type": ["object", "null"],
                            "additionalProperties": {"type": "string"},
                            "description": "Set for the process. Confidential: never echoed."
                          }
                        },
                        "required": ["type", "command", "cwd"],
                        "additionalProperties": false
                      }
                    ]
                  },
                  "allowed_tools": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                    "description": "Omitted or null: every tool of the server."
                  },
                  "connection_origin": {"type": ["string", "null"], "enum": ["service", "environment", null]},
                  "credential_id": {
                    "type": ["string", "null"],
                    "description": "Vault credentials are not available yet: a value is a 400 `feature_not_available`."
                  },
                  "request_metadata": {"type": ["object", "null"], "description": "Sent as `_meta` of every tool call."},
                  "required": {
                    "type": ["boolean", "null"],
                    "description": "The server must start before the turn's first model call, else the turn fails (`connection_failed`)."
                  }
                },
                "required": ["type", "server_label", "transport"],
                "additionalProperties": false
              },
              "PersistedMcpToolParam": {
                "type": "object",
                "description": "The tools of an MCP server. Reusable agents carry no credentials (no `authorization`, no `env`).",
                "properties": {
                  "type": {"type": "string", "const": "mcp"},
                  "server_label": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_-]{1,64}$",
                    "description": "Unique among the agent's MCP servers. The tools are offered to the model as `mcp__<server_label>__<tool>`."
                  },
                  "transport": {
                    "oneOf": [
                      {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string", "const": "http"},
                          "server_url": {"type": "string", "description": "An http(s) URL; reached from the runtime."},
                          "headers": {
                            "type": ["object", "null"],
                            "additionalProperties": {"type": "string"},
                            "description": "Sent with every request. Non-secret: echoed on the agent."
                          }
                        },
                        "required": ["type", "server_url"],
                        "additionalProperties": false
                      },
                      {
                        "type": "object",
                        "properties": {
                          "type": {"type": "string", "const": "stdio"},
                          "command": {"type": "string"},
                          "cwd": {"type": "string", "description": "An absolute path."},
                          "args": {"type": ["array", "null"], "items": {"type": "string"}},
                          "env_vars": {
                            "type": ["array", "null"],
                            "items": {"type": "string"},
                            "description": "Names of the hosted environment's `env` the process inherits."
                          }
                        },
                        "required": ["type", "command", "cwd"],
                        "additionalProperties": false
                      }
                    ]
                  },
                  "allowed_tools": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                    "description": "Omitted or null: every tool of the server."
                  },
                  "connection_origin": {"type": ["string", "null"], "enum": ["service", "environment", null]},
                  "credential_id": {
                    "type": ["string", "null"],
                    "description": "Vault credentials are not available yet: a value is a 400 `feature_not_available`."
                  },
                  "request_metadata": {"type": ["object", "null"], "description": "Sent as `_meta` of every tool call."},
                  "required": {
                    "type": ["boolean", "null"],
                    "description": "The server must start before the turn's first model call, else the turn fails (`connection_failed`)."
                  }
                },
                "required": ["type", "server_label", "transport"],
                "additionalProperties": false
              },
              "WebSearchToolParam": {
                "type": "object",
                "description": "Web search and page reading, run by the runtime (see the README). At most one per agent.",
                "properties": {
                  "type": {"type": "string", "const": "web_search"},
                  "allowed_domains": {
                    "type": ["array", "null"],
                    "items": {"type": "string", "pattern": "^[A-Za-z0-9.-]+$"},
                    "description": "Host names; each includes its subdomains. No wildcards."
                  },
                  "context_size": {"type": ["string", "null"], "enum": ["low", "medium", "high", null]},
                  "location": {
                    "type": ["object", "null"],
                    "properties": {
                      "city": {"type": ["string", "null"]},
                      "country": {"type": ["string", "null"]},
                      "region": {"type": ["string", "null"]},
                      "timezone": {"type": ["string", "null"]},
                      "type": {"type": "string"}
                    },
                    "additionalProperties": false
                  },
                  "mode": {"type": ["string", "null"], "enum": ["disabled", "cached", "live", null]}
                },
                "required": ["type"],
                "additionalProperties": false
              },
              "PersistedToolsParam": {
                "type": ["array", "null"],
                "items": {
                  "oneOf": [
                    {"$ref": "#/components/schemas/FunctionToolParam"},
                    {"$ref": "#/components/schemas/PersistedMcpToolParam"},
                    {"$ref": "#/components/schemas/WebSearchToolParam"}
                  ]
                },
                "description": "Replaces the whole list; `null` clears it. Must fit in 3 MiB (3,145,728 bytes) of compact JSON; function names and MCP server labels must be unique."
              },
              "McpTool": {
                "type": "object",
                "properties": {
                  "type": {"type": "string", "const": "mcp"},
                  "server_label": {"type": "string"},
                  "transport": {
                    "type": "object",
                    "properties": {
                      "type": {"type": "string", "enum": ["http", "stdio"]},
                      "server_url": {"type": "string"},
                      "headers": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Agents only (never on sessions)."
                      },
                      "command": {"type": "string"},
                      "cwd": {"type": "string"},
                      "args": {"type": "array", "items": {"type": "string"}},
                      "env_vars": {"type": "array", "items": {"type": "string"}}
                    },
                    "required": ["type"]
                  },
                  "allowed_tools": {"type": ["array", "null"], "items": {"type": "string"}},
                  "connection_origin": {"type": "string", "enum": ["service", "environment"]},
                  "credential_id": {"type": ["string", "null"]},
                  "request_metadata": {"type": "object"},
                  "required": {"type": "boolean"}
                },
                "required": ["type", "server_label", "transport", "connection_origin", "request_metadata", "required"]
              },
              "WebSearchTool": {
                "type": "object",
                "properties": {
                  "type": {"type": "string", "const": "web_search"},
                  "allowed_domains": {"type": ["array", "null"], "items": {"type": "string"}},
                  "context_size": {"type": "string", "enum": ["low", "medium", "high"]},
                  "location": {"type": ["object", "null"]},
                  "mode": {"type": "string", "enum": ["disabled", "cached", "live"]}
                },
                "required": ["type", "context_size", "mode"]
              },
              "AgentTool": {
                "oneOf": [
                  {"$ref": "#/components/schemas/FunctionTool"},
                  {"$ref": "#/components/schemas/McpTool"},
                  {"$ref": "#/components/schemas/WebSearchTool"}
                ]
              }
            }
          }
        }
        """#
}

"""Builds the gateway from its settings: stores, stage clients, pipeline, servicer, server spec."""

from __future__ import annotations

import grpc
from opentelemetry import trace

from gateway.availability import Availability
from gateway.clients import StageClients
from gateway.config import GatewayConfig
from gateway.conversation import Conversations, TurnLimits
from gateway.pipeline import Pipeline, PipelineOptions
from gateway.retention import Collector
from gateway.servicer import GatewayServicer
from gateway.sessions import open_store
from hugginggpt.artifacts_s3 import open_artifact_store
from hugginggpt.auth import bearer_interceptor
from hugginggpt.budget import LlmCallBudget
from hugginggpt.server import ServerSpec
from hugginggpt.v1 import gateway_pb2, gateway_pb2_grpc

SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name


def server_credentials(config: GatewayConfig) -> grpc.ServerCredentials | None:
    """TLS credentials when a certificate and key are configured."""
    if config.tls_cert is None or config.tls_key is None:
        return None
    return grpc.ssl_server_credentials([(config.tls_key.read_bytes(), config.tls_cert.read_bytes())])


def build_spec(config: GatewayConfig, tracer: trace.Tracer | None = None) -> ServerSpec:
    """Everything the gateway needs, created once; the spec's on_stop hooks close it all."""
    artifacts = open_artifact_store(root=config.artifact_dir, max_bytes=config.artifact_max_bytes)
    sessions = open_store(config.session_store, config.session_store_password)
    stages = StageClients(config)
    availability = (Availability(stages.list_task_types, config.task_types_ttl_seconds)
                    if config.offer_runnable_only else None)
    pipeline = Pipeline(
        stages,
        PipelineOptions(
            config.stream_execution, config.respond_to_direct_answers, config.task_timeout_seconds,
            LlmCallBudget(config.max_llm_calls),
        ),
        tracer or trace.get_tracer("gateway"),
        availability,
    )
    conversations = Conversations(
        pipeline, sessions, artifacts, TurnLimits(config.request_timeout_seconds, config.history_messages,
                                                  config.max_attachments, config.max_session_messages)
    )
    servicer = GatewayServicer(conversations, stages, artifacts)
    collector = Collector(sessions, artifacts, config.retention)
    collector.start()
    return ServerSpec(
        listen=config.listen,
        service_names=[SERVICE_NAME],
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(servicer, server),
        metrics_port=config.metrics_port,
        on_stop=[collector.stop, conversations.drain, stages.close, sessions.close],
        interceptors=[bearer_interceptor(config.auth_token)] if config.auth_token else [],
        credentials=server_credentials(config),
        max_concurrent_requests=config.max_concurrent_requests,
        concurrency_setting="HUGGINGGPT_GATEWAY_MAX_CONCURRENT_REQUESTS",
        max_request_seconds=config.request_timeout_seconds,
        service_token="",  # a public entry point: callers show the bearer token, not the services' token
    )

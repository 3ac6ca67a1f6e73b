"""Probe for Amazon Bedrock: the control plane's ListFoundationModels, filtered to image output.

Credentials: options["access_key_id"] with the secret access key in `api_key` (and optionally
options["session_token"]), or boto3's usual chain (environment, profile, instance role) when none are given.
"""

from __future__ import annotations

import re
import time
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import SSLError as BotoSSLError

from app.providers.probes.base import Offer, ProbeFailed, ProbeResult
from app.providers.probes.naming import image_model_capabilities
from app.providers.probes.transport import check_base_url, origin_of

_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_AUTH_CODES = frozenset({"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
                         "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationTokenException",
                         "IncompleteSignatureException", "AccessDenied", "UnrecognizedClient"})


def probe_bedrock(*, base_url: str, api_key: str, options: dict[str, Any], timeout: float) -> ProbeResult:
    region = str(options.get("region") or "")
    if not _REGION.match(region):
        raise ProbeFailed("Bedrock needs an AWS region like 'us-east-1' in the region field.", code="bad_config")
    endpoint = str(options.get("endpoint_url") or base_url or "")
    if endpoint:
        endpoint = check_base_url(endpoint, service="Bedrock")
    where = origin_of(endpoint) if endpoint else f"bedrock.{region}.amazonaws.com"
    access_key = str(options.get("access_key_id") or "")
    if bool(access_key) != bool(api_key):
        raise ProbeFailed("Give both the AWS access key id and the secret access key, or neither (to use the "
                          "server's own AWS credentials).", code="bad_config")
    secrets = tuple(s for s in (api_key, str(options.get("session_token") or "")) if s)
    session = boto3.session.Session(aws_access_key_id=access_key or None, aws_secret_access_key=api_key or None,
                                    aws_session_token=options.get("session_token") or None, region_name=region,
                                    botocore_session=botocore.session.get_session())
    # One attempt, as every probe: botocore's default retries would stretch a dead endpoint to minutes.
    client = session.client("bedrock", endpoint_url=endpoint or None, config=Config(
        connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1, "mode": "standard"}))
    started = time.perf_counter()
    try:
        answer = client.list_foundation_models(byOutputModality="IMAGE")
    except Exception as exc:  # every botocore failure becomes a ProbeFailed (see _failure)
        raise _scrub(_failure(exc, where, timeout), secrets) from None
    finally:
        client.close()
    latency = round((time.perf_counter() - started) * 1000)
    summaries = answer.get("modelSummaries")
    if not isinstance(summaries, list):
        raise ProbeFailed(f"This does not look like the Bedrock API at {where}: no modelSummaries.", code="wrong_api")
    offers = []
    for model in summaries:
        model_id = model.get("modelId") if isinstance(model, dict) else None
        if not isinstance(model_id, str) or "IMAGE" not in (model.get("outputModalities") or []):
            continue
        capabilities = image_model_capabilities(model_id)
        active = (model.get("modelLifecycle") or {}).get("status", "ACTIVE") == "ACTIVE"
        if active:
            offers.append(Offer(model_id, capabilities, guessed=capabilities != ("images",),
                                label=str(model.get("modelName") or "")))
    return ProbeResult(offers, latency, {"region": region})


def _scrub(failure: ProbeFailed, secrets: tuple[str, ...]) -> ProbeFailed:
    message = failure.message
    for secret in secrets:
        message = message.replace(secret, "[redacted]")
    return ProbeFailed(message, code=failure.code)


def _failure(exc: Exception, where: str, timeout: float) -> ProbeFailed:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error") or {}
        code = str(error.get("Code") or "")
        said = " ".join(str(error.get("Message") or "").split())[:200]
        status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        if code in _AUTH_CODES or status == 401:
            return ProbeFailed(f"AWS refused the credentials ({code or status}): {said} Check the access key, "
                               "the secret and that the IAM user may call bedrock:ListFoundationModels.",
                               code="unauthorized")
        if status == 403:
            return ProbeFailed(f"Access was denied (403, {code}): {said}", code="forbidden")
        if status == 404:
            return ProbeFailed(f"This does not look like the Bedrock API at {where}: ListFoundationModels "
                               "answered 404.", code="wrong_api")
        return ProbeFailed(f"Bedrock answered {code or f'HTTP {status}'}: {said}", code="http_error")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ProbeFailed("No AWS credentials: give an access key id and secret, or configure the server's "
                           "AWS credentials.", code="unauthorized")
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return ProbeFailed(f"Bedrock at {where} did not answer within {timeout:g} s (timeout).", code="timeout")
    if isinstance(exc, BotoSSLError):
        return ProbeFailed(f"The TLS handshake with {where} failed. Does it speak https, with a valid certificate?",
                           code="tls")
    if isinstance(exc, EndpointConnectionError):
        text = " ".join(str(e) for e in (exc, exc.__cause__, exc.__context__) if e)
        if re.search(r"name or service not known|nodename nor servname|name resolution|getaddrinfo", text, re.I):
            return ProbeFailed(f"The host name of {where} cannot be resolved (DNS). Check the region and the "
                               "endpoint URL.", code="dns")
        return ProbeFailed(f"Nothing answers at {where} (connection refused).", code="refused")
    if isinstance(exc, BotoCoreError):
        return ProbeFailed(f"Cannot reach Bedrock at {where} ({type(exc).__name__}).", code="http_error")
    if isinstance(exc, ValueError):  # botocore rejects a malformed endpoint URL this way
        return ProbeFailed(f"The Bedrock endpoint URL is not usable ({type(exc).__name__}).", code="bad_config")
    return ProbeFailed(f"The Bedrock call failed ({type(exc).__name__}).", code="http_error")

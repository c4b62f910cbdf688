"""ministack, the local AWS that `make deploy-local` deploys the stack into.

Usage: python infra/ministack_server.py PORT

Serves on 127.0.0.1:PORT only. Functions run as local child processes
(provided.al2023 bootstraps built for this machine) and call back into this
server through AWS_ENDPOINT_URL.

ministack 1.5.33 (pinned exactly in infra/requirements-ministack.txt, since
what follows replaces private functions of that version) differs from AWS in five ways the
service cannot tolerate. Each is corrected here, not in the service:

1. AWS::SecretsManager::RotationSchedule is not a known resource type
   (CreateChangeSet fails), and RotateSecret copies AWSCURRENT into a new
   version instead of invoking the rotation function. Here both run the
   function's four steps as Secrets Manager does, and the finished rotation
   leaves AWSPENDING on no version.
2. AWS::ApiGatewayV2::Api ignores Body, the OpenAPI document that SAM's
   AWS::Serverless::HttpApi becomes: the API would have no routes,
   integrations or authorizers. Here Body is imported as ImportApi does.
3. The SAM transform runs without the stack's parameter values, so
   `!Ref Parameter` inside SAM-only properties (CORS origins, route
   throttling) resolves to the Defaults. Here it gets the values.
4. ministack answers POST /oauth2/token itself (a Cognito shortcut) on
   every host; an execute-api host must reach the API's own route.
5. CreateSecret ignores ClientRequestToken, so an SDK retry of a create
   that did succeed (its answer lost) is ResourceExistsException, where
   Secrets Manager ignores the repeated request. Here it is ignored.

What it cannot check at all is listed in docs/testing.md ("Deployment layer").
"""
import contextvars
import json
import logging
import os
import sys
import threading

if __name__ == "__main__":
    # Before ministack is imported: it reads these at import time.
    if len(sys.argv) != 2:
        sys.exit("usage: ministack_server.py PORT")
    os.environ.update(BIND_HOST="127.0.0.1", GATEWAY_PORT=sys.argv[1], IOT_MTLS_ENABLED="0",
                      AWS_ENDPOINT_URL=f"http://127.0.0.1:{sys.argv[1]}")
    del sys.argv[1:]

import ministack.app as app
import ministack.services.apigateway as apigw
import ministack.services.lambda_svc as lambdas
import ministack.services.secretsmanager as sm
import samtranslator.translator.transform as sam_transform
from ministack.core.responses import json_response, new_uuid
from ministack.services.cloudformation import changesets, engine, handlers, provisioners, stacks

log = logging.getLogger("modules.ministack")


# --- 1. Rotation: RotateSecret and AWS::SecretsManager::RotationSchedule ----

ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def run_rotation(secret, function_arn, token):
    """Secrets Manager's rotation: the four steps, in order, stopping at the
    first that fails; then AWSPENDING is taken off the finished version."""
    record, config, name = lambdas._get_func_record_for_ref(function_arn)
    if record is None or config is None:
        raise ValueError(f"rotation function {function_arn!r} not found")
    for step in ROTATION_STEPS:
        event = {"SecretId": secret["ARN"], "ClientRequestToken": token, "Step": step}
        result = lambdas._execute_function_with_config_scope(lambdas._execution_record_for_config(record, config), event)
        if result.get("error"):
            raise ValueError(f"rotation of {secret['Name']} by {name}: {step} failed: {result.get('body')!r}")
    for version in secret["Versions"].values():
        if "AWSPENDING" in version["Stages"]:
            version["Stages"].remove("AWSPENDING")


def configure_rotation(secret, function_arn, rules):
    if function_arn:
        secret["RotationLambdaARN"] = function_arn
    if rules:
        secret["RotationRules"] = rules
    secret["RotationEnabled"] = True


def rotate_secret(data):
    """RotateSecret: answers at once and rotates in the background, as AWS
    does (the function calls back into this server, so it cannot run on the
    request's own event loop)."""
    _, secret = sm._resolve(data.get("SecretId"))
    if not secret:
        return stock_rotate_secret(data)  # its own not-found error
    configure_rotation(secret, data.get("RotationLambdaARN"), data.get("RotationRules"))
    if not secret.get("RotationLambdaARN"):
        return stock_rotate_secret(data)
    token = data.get("ClientRequestToken") or new_uuid()

    def rotate():
        try:
            run_rotation(secret, secret["RotationLambdaARN"], token)
        except Exception:  # noqa: BLE001 - AWS records a failed rotation; so do we, in the log
            log.exception("rotation of %s failed", secret["Name"])

    threading.Thread(target=rotate, daemon=True).start()
    return json_response({"ARN": secret["ARN"], "Name": secret["Name"], "VersionId": token})


stock_rotate_secret = sm._rotate_secret
sm._rotate_secret = rotate_secret  # looked up by name on every request


def schedule(props, changed=True):
    """RotationSchedule create or update: configure, then rotate at once
    unless RotateImmediatelyOnUpdate is false (CloudFormation's default is
    true), waiting for it as CloudFormation does. ministack calls a
    resource's update on every stack update; CloudFormation leaves an
    unchanged resource alone, so an unchanged schedule does not rotate."""
    _, secret = sm._resolve(props["SecretId"])
    if not secret:
        raise ValueError(f"secret {props['SecretId']!r} not found")
    configure_rotation(secret, props.get("RotationLambdaARN"), props.get("RotationRules"))
    immediately = str(props.get("RotateImmediatelyOnUpdate", True)).lower() != "false"
    if changed and immediately and secret.get("RotationLambdaARN"):
        run_rotation(secret, secret["RotationLambdaARN"], new_uuid())
    return secret["ARN"], {}


def unschedule(physical_id, props):
    _, secret = sm._resolve(physical_id)
    if secret:
        secret["RotationEnabled"] = False


provisioners._RESOURCE_HANDLERS["AWS::SecretsManager::RotationSchedule"] = {
    "create": lambda logical_id, props, stack: schedule(props),
    "update": lambda physical_id, old, new, stack, logical_id=None: schedule(new, changed=old != new),
    "update_with_logical_id": True,
    "delete": unschedule,
}
# The rotation function calls back into this server: provision off the
# event loop, as ministack does for custom resources.
_stock_worker = stacks._runs_on_worker_thread
stacks._runs_on_worker_thread = lambda t: t == "AWS::SecretsManager::RotationSchedule" or _stock_worker(t)


# --- 5. CreateSecret is idempotent under its ClientRequestToken -------------

stock_create_secret = sm._create_secret


def create_secret(data):
    """A repeated CreateSecret (same name, token and value) answers as the
    first did, as Secrets Manager does for an SDK retry."""
    token = data.get("ClientRequestToken")
    _, secret = sm._resolve(data.get("Name"))
    if secret and token and secret.get("_createToken") == token and not secret.get("DeletedDate"):
        first = secret["Versions"].get(secret["_createVersion"], {})
        if first.get("SecretString") == data.get("SecretString") and first.get("SecretBinary") == data.get("SecretBinary"):
            return json_response({"ARN": secret["ARN"], "Name": secret["Name"], "VersionId": secret["_createVersion"]})
    response = stock_create_secret(data)
    if token and response[0] == 200:
        _, secret = sm._resolve(data.get("Name"))
        secret["_createToken"], secret["_createVersion"] = token, json.loads(response[2])["VersionId"]
    return response


sm._create_secret = create_secret


# --- 2. AWS::ApiGatewayV2::Api Body --------------------------------------

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"}


def created(response):
    return json.loads(response[2])


def as_list(value):
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


def import_body(api_id, body):
    """Routes, Lambda proxy integrations, authorizers and CORS of an OpenAPI
    document with API Gateway's extensions, replacing what the API had."""
    if isinstance(body, str):
        body = json.loads(body)
    for table in (apigw._routes, apigw._integrations, apigw._authorizers):
        table[api_id] = {}
    authorizers = {}
    for name, scheme in ((body.get("components") or {}).get("securitySchemes") or {}).items():
        ext = scheme.get("x-amazon-apigateway-authorizer")
        if not ext:
            continue
        kind = "REQUEST" if ext.get("type") == "request" else "JWT"
        spec = {"name": name, "authorizerType": kind, "identitySource": as_list(ext.get("identitySource") or []),
                "authorizerUri": ext.get("authorizerUri", ""),
                "authorizerPayloadFormatVersion": ext.get("authorizerPayloadFormatVersion", "2.0"),
                "authorizerResultTtlInSeconds": ext.get("authorizerResultTtlInSeconds", 0),
                "enableSimpleResponses": ext.get("enableSimpleResponses", False)}
        if ext.get("jwtConfiguration"):
            spec["jwtConfiguration"] = ext["jwtConfiguration"]
        authorizers[name] = (created(apigw._create_authorizer(api_id, spec))["authorizerId"], kind)
    for path, item in (body.get("paths") or {}).items():
        for method, op in item.items():
            integration = op.get("x-amazon-apigateway-integration") if method in HTTP_METHODS else None
            if not integration:
                continue
            target = created(apigw._create_integration(api_id, {
                "integrationType": integration.get("type", "aws_proxy").upper(),
                "integrationUri": integration.get("uri", ""),
                "integrationMethod": integration.get("httpMethod", "POST"),
                "payloadFormatVersion": integration.get("payloadFormatVersion", "2.0"),
                "timeoutInMillis": integration.get("timeoutInMillis", 30000)}))["integrationId"]
            verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            route = {"routeKey": f"{verb} {path}", "target": f"integrations/{target}"}
            for requirement in op.get("security", body.get("security")) or []:
                for name, scopes in requirement.items():
                    if name in authorizers:
                        authorizer_id, kind = authorizers[name]
                        route.update(authorizerId=authorizer_id, authorizationType="CUSTOM" if kind == "REQUEST" else "JWT")
                        if scopes:
                            route["authorizationScopes"] = scopes
            apigw._create_route(api_id, route)
    cors = body.get("x-amazon-apigateway-cors")
    if cors:
        apigw._apis[api_id]["corsConfiguration"] = {
            k: as_list(v) if k in ("allowOrigins", "allowHeaders", "allowMethods", "exposeHeaders") else v
            for k, v in cors.items()}


_http_api = provisioners._RESOURCE_HANDLERS["AWS::ApiGatewayV2::Api"]
_stock_create, _stock_update = _http_api["create"], _http_api["update"]


def create_http_api(logical_id, props, stack_name):
    physical_id, attrs = _stock_create(logical_id, props, stack_name)
    if props.get("Body"):
        import_body(physical_id, props["Body"])
    return physical_id, attrs


def update_http_api(physical_id, old_props, new_props, stack_name, logical_id=None):
    physical_id, attrs = _stock_update(physical_id, old_props, new_props, stack_name, logical_id)
    if new_props.get("Body"):
        import_body(physical_id, new_props["Body"])
    return physical_id, attrs


_http_api["create"], _http_api["update"] = create_http_api, update_http_api


# --- 3. The SAM transform sees the stack's parameter values -----------------

_stack_parameters = contextvars.ContextVar("stack_parameters", default={})
_stock_sam = sam_transform.transform
_stock_apply = engine._apply_transforms


def sam_with_parameters(template, parameter_values, *args, **kwargs):
    return _stock_sam(template, {**_stack_parameters.get(), **(parameter_values or {})}, *args, **kwargs)


def apply_transforms(template, provided_params=None, previous_params=None):
    token = _stack_parameters.set(engine._transform_parameters(template, provided_params, previous_params))
    try:
        return _stock_apply(template, provided_params, previous_params)
    finally:
        _stack_parameters.reset(token)


sam_transform.transform = sam_with_parameters
for _module in (engine, changesets, handlers):
    _module._apply_transforms = apply_transforms


# --- 4. execute-api hosts reach the API, not the Cognito shortcut -----------

_stock_cognito = app._handle_cognito_body_request


async def cognito_unless_execute_api(method, path, headers, body, query_params):
    if app._EXECUTE_API_RE.match((headers.get("host") or "").lower()):
        return None
    return await _stock_cognito(method, path, headers, body, query_params)


app._handle_cognito_body_request = cognito_unless_execute_api


if __name__ == "__main__":
    app.main()

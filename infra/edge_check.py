"""The deployment layer's check of the per-address limits (README.md, "One
address cannot spend everyone's budget") on a stack in ministack.

Usage: python infra/edge_check.py STACK enabled|disabled

enabled: the stack's CloudFront distribution has the stack's own web ACL,
the API as its only origin (https only), the origin secret's value as its
X-Origin-Verify header, IPv4-only viewers, no caching and every viewer
header but Host forwarded; the web ACL's two rate-based rules carry the
stack's EdgeTokenLimit, EdgeManagementLimit and EdgeWindowSeconds and answer
429. disabled: none of the three resources exists.

ministack creates CloudFront distributions and WAF web ACLs but serves no
traffic through them to an API Gateway origin and evaluates no WAF rule:
what a request meets on that path is the local gateway's emulation and its
tests (internal/apigw, internal/localgateway).
"""
import json
import sys
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def web_acl(arn):
    """GetWebACL, parsed here: ministack answers SearchString, a blob, as
    text, which boto3's parser refuses as base64."""
    session = boto3.session.Session()
    parts = arn.split("/")
    body = json.dumps({"Name": parts[-2], "Scope": "CLOUDFRONT", "Id": parts[-1]})
    endpoint = session.client("wafv2").meta.endpoint_url
    req = AWSRequest("POST", endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSWAF_20190729.GetWebACL"})
    SigV4Auth(session.get_credentials(), "wafv2", session.region_name).add_auth(req)
    with urllib.request.urlopen(urllib.request.Request(endpoint + "/", data=body.encode(), headers=dict(req.headers))) as r:
        return json.load(r)["WebACL"]


def main(stack, mode):
    cfn = boto3.client("cloudformation")
    desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in desc["Parameters"]}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                 for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    edge = ("EdgeWebAcl", "EdgeDistribution", "EdgeOriginSecret")
    problems = []
    if mode == "disabled":
        problems += [f"{r} exists with EdgeRateLimiting=disabled" for r in edge if r in resources]
        problems += [f"output {o} with EdgeRateLimiting=disabled" for o in ("EdgeUrl", "EdgeOriginSecret") if o in outputs]
        return problems, "EdgeRateLimiting=disabled: no distribution, web ACL or origin secret"

    missing = [r for r in edge if r not in resources]
    if missing:
        return [f"missing {', '.join(missing)}"], ""
    dist = boto3.client("cloudfront").get_distribution(Id=resources["EdgeDistribution"])["Distribution"]
    cfg = dist["DistributionConfig"]
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=resources["EdgeOriginSecret"])["SecretString"]
    acl_arn = cfg.get("WebACLId", "")
    origins = cfg["Origins"]["Items"]
    api_host = outputs["ApiUrl"].removeprefix("https://")
    headers = {h["HeaderName"]: h["HeaderValue"] for h in (origins[0].get("CustomHeaders") or {}).get("Items", [])} if origins else {}
    behavior = cfg["DefaultCacheBehavior"]

    def want(name, got, expected):
        if got != expected:
            problems.append(f"{name}: {got!r}, want {expected!r}")

    # a web ACL's physical ID is name|id|scope
    want("the distribution's web ACL is the stack's", acl_arn.split("/")[-1], resources["EdgeWebAcl"].split("|")[1])
    want("origins", [o["DomainName"] for o in origins], [api_host])
    want("origin protocol", origins[0]["CustomOriginConfig"]["OriginProtocolPolicy"] if origins else None, "https-only")
    want("X-Origin-Verify is the origin secret", headers.get("X-Origin-Verify") == secret and len(secret) >= 32, True)
    want("IPv6 viewers", cfg.get("IsIPV6Enabled"), False)
    want("viewer protocol", behavior["ViewerProtocolPolicy"], "https-only")
    want("cache policy", behavior.get("CachePolicyId"), CACHING_DISABLED)
    want("origin request policy", behavior.get("OriginRequestPolicyId"), ALL_VIEWER_EXCEPT_HOST)
    want("EdgeUrl", outputs.get("EdgeUrl"), "https://" + dist["DomainName"])

    rules = {r["Name"]: r for r in web_acl(acl_arn)["Rules"]}
    for name, limit in (("token-per-address", "EdgeTokenLimit"), ("management-per-address", "EdgeManagementLimit")):
        r = rules.get(name)
        if r is None:
            problems.append(f"no rule {name}")
            continue
        rb = r["Statement"]["RateBasedStatement"]
        want(f"{name} limit", str(rb["Limit"]), params[limit])
        want(f"{name} window", str(rb["EvaluationWindowSec"]), params["EdgeWindowSeconds"])
        want(f"{name} aggregation", rb["AggregateKeyType"], "IP")
        want(f"{name} answer", r["Action"]["Block"]["CustomResponse"]["ResponseCode"], 429)
    summary = (f"{dist['DomainName']} → {api_host}, web ACL: {params['EdgeTokenLimit']} token and "
               f"{params['EdgeManagementLimit']} other requests per address per {params['EdgeWindowSeconds']} s")
    return problems, summary


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("enabled", "disabled"):
        sys.exit(__doc__)
    problems, summary = main(sys.argv[1], sys.argv[2])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(summary)

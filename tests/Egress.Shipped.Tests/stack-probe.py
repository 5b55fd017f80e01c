#!/usr/bin/python3
"""The shipped tier's look at the EC2/SSM emulator (moto), with boto3 and not with egress: what a stack holds.

  stack-probe.py ENDPOINT account         JSON: a new, empty emulated AWS account and an access key for it
  stack-probe.py ENDPOINT remains STACK   JSON: every live resource tagged egress:stack=STACK in every region the
                                          emulator lists, and any stack-lock parameter /egress/lock/STACK
  stack-probe.py ENDPOINT lock REGION STACK HOLDER_JSON
                                          creates that lock parameter (Overwrite=false), as egress's StackLock does

remains and lock act in the account of AWS_ACCESS_KEY_ID (from `account`; else moto's default account).

An account of its own per test: moto serves one EC2 per account and region to every client of the server, and it
ignores the filters of DescribeVpcPeeringConnections, so two stacks in one account see each other's peerings (egress
relies on AWS's tag filter; so would this probe). moto maps an access key to the account whose IAM created it, and
IAM calls with the x-moto-account-id header act in that account.

Per-kind describe calls with a tag filter, each result checked for the tag here too, not DescribeTags alone: moto
4.2.14 keeps the tags of deleted resources in DescribeTags (it serves here only to skip regions never tagged). Deleted peerings and terminated instances are gone (AWS shows both
for a while after they are deleted). Only 127.0.0.1 is accepted: this never talks to AWS."""
import json
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import boto3
from botocore.config import Config

GONE_PEERING = {"deleted", "deleting", "rejected", "failed", "expired"}


SESSION = boto3.session.Session()  # one session: its loader reads each service model once, not once per client


def client(endpoint, service, region):
    return SESSION.client(service, region_name=region, endpoint_url=endpoint,
                          aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                          aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                          config=Config(retries={"max_attempts": 5}))


def new_account(endpoint):
    account = "".join(random.choice("0123456789") for _ in range(12))
    iam = SESSION.client("iam", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                         aws_secret_access_key="testing")
    iam.meta.events.register("before-sign.iam.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    iam.create_user(UserName="egress-shipped-tier")
    key = iam.create_access_key(UserName="egress-shipped-tier")["AccessKey"]
    return {"account": account, "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}


def tagged(resource, stack):
    return any(t["Key"] == "egress:stack" and t["Value"] == stack for t in resource.get("Tags") or [])


def region_remains(stack, region, ec2, ssm):
    f = [{"Name": "tag:egress:stack", "Values": [stack]}]
    found = []
    try:
        value = ssm.get_parameter(Name=f"/egress/lock/{stack}")["Parameter"]["Value"]
        found.append(("lock", f"/egress/lock/{stack}", value))
    except ssm.exceptions.ParameterNotFound:
        pass
    # A region where nothing of the stack was ever tagged needs no more calls (DescribeTags errs only the other way:
    # moto keeps a deleted resource's tags there, so a region the stack has used is read kind by kind).
    if not ec2.describe_tags(Filters=[{"Name": "key", "Values": ["egress:stack"]}, {"Name": "value", "Values": [stack]}])["Tags"]:
        return [{"region": region, "kind": k, "id": i, "state": s} for k, i, s in found]
    mine = lambda items: [x for x in items if tagged(x, stack)]
    for v in mine(ec2.describe_vpcs(Filters=f)["Vpcs"]):
        found.append(("vpc", v["VpcId"], v.get("State", "")))
    for s in mine(ec2.describe_subnets(Filters=f)["Subnets"]):
        found.append(("subnet", s["SubnetId"], s.get("State", "")))
    for g in mine(ec2.describe_internet_gateways(Filters=f)["InternetGateways"]):
        found.append(("internet-gateway", g["InternetGatewayId"], ""))
    for t in mine(ec2.describe_route_tables(Filters=f)["RouteTables"]):
        found.append(("route-table", t["RouteTableId"], ""))
    for g in mine(ec2.describe_security_groups(Filters=f)["SecurityGroups"]):
        found.append(("security-group", g["GroupId"], ""))
    for p in mine(ec2.describe_vpc_peering_connections(Filters=f)["VpcPeeringConnections"]):
        if p["Status"]["Code"] not in GONE_PEERING:
            found.append(("peering", p["VpcPeeringConnectionId"], p["Status"]["Code"]))
    for r in ec2.describe_instances(Filters=f)["Reservations"]:
        for i in mine(r["Instances"]):
            if i["State"]["Name"] != "terminated":
                found.append(("instance", i["InstanceId"], i["State"]["Name"]))
    for a in mine(ec2.describe_addresses(Filters=f)["Addresses"]):
        found.append(("elastic-ip", a.get("AllocationId", a.get("PublicIp", "")), ""))
    for k in mine(ec2.describe_key_pairs(Filters=f)["KeyPairs"]):
        found.append(("key-pair", k.get("KeyPairId", k["KeyName"]), ""))
    for v in mine(ec2.describe_volumes(Filters=f)["Volumes"]):
        if v["State"] != "deleted":
            found.append(("volume", v["VolumeId"], v["State"]))
    return [{"region": region, "kind": k, "id": i, "state": s} for k, i, s in found]


def remains(endpoint, stack):
    regions = sorted(r["RegionName"] for r in client(endpoint, "ec2", "us-east-1").describe_regions()["Regions"])
    # Clients are made here, one thread: a boto3 session is not thread-safe, its clients are.
    clients = [(r, client(endpoint, "ec2", r), client(endpoint, "ssm", r)) for r in regions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        per_region = list(pool.map(lambda c: region_remains(stack, *c), clients))
    return {"stack": stack, "regions": regions, "resources": [x for xs in per_region for x in xs]}


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    endpoint, verb = argv[1], argv[2]
    if urlparse(endpoint).hostname != "127.0.0.1":
        sys.exit(f"refusing {endpoint}: only an emulator on 127.0.0.1")
    if verb == "account" and len(argv) == 3:
        print(json.dumps(new_account(endpoint)))
    elif verb == "remains" and len(argv) == 4:
        print(json.dumps(remains(endpoint, argv[3])))
    elif verb == "lock" and len(argv) == 6:
        client(endpoint, "ssm", argv[3]).put_parameter(Name=f"/egress/lock/{argv[4]}", Value=argv[5], Type="String", Overwrite=False)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

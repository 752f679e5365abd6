#!/usr/bin/env python3
"""Writes the schemathesis configuration for scripts/fuzz-api.sh: dictionaries of the ids that exist
on the fuzzed server, bound to the path parameters and body fields that name them.

Without them the fuzzer invents ids, and nearly every request on an organization, site, issue,
page or backup ends in a 404 before it reaches the code behind it. With them, most requests name
real objects (the rest still use invented ids, so the 404 paths stay covered).

    fuzz_api_values.py BASE_URL AUTHORIZATION STORAGE_DIR OUT_TOML

It also makes what the fuzzer cannot make alone: an empty second site to restore into, one
completed backup of the seeded site's Jira in managed storage, and a filesystem storage
(STORAGE_DIR, inside the server's allowed roots) connected to the Jira policy afterwards, so that
restores and exports have real objects to work on. Standard library only.
"""

import json
import sys
import time
import urllib.request

# Share of the generated requests that use an existing id rather than an invented one.
PROBABILITY = 0.8


def main() -> None:
    base, authorization, storage_dir, out = sys.argv[1:5]
    api = f"{base}/api/v1"

    def call(method: str, path: str, body=None, content_type="application/json"):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(f"{api}{path}", data=data, method=method)
        request.add_header("Authorization", authorization)
        if data is not None:
            request.add_header("Content-Type", content_type)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    orgs = [o["orgId"] for o in call("GET", "/orgs")["items"]]
    org = orgs[0]
    cloud = call("GET", f"/orgs/{org}/sites")["items"][0]["cloudId"]
    target = call("POST", f"/orgs/{org}/sites", {"name": "Restore target", "products": ["JIRA", "CONFLUENCE"]})
    clouds = [cloud, target["cloudId"]]
    site = f"/orgs/{org}/cloud/{cloud}"

    projects = [p["key"] for p in call("GET", f"{site}/jira/projects")["items"]]
    issues = [i["issueKey"] for i in call("GET", f"{site}/jira/projects/{projects[0]}/issues?limit=50")["items"]]
    spaces = [s["key"] for s in call("GET", f"{site}/confluence/spaces")["items"]]
    pages = [p["pageId"] for key in spaces for p in call("GET", f"{site}/confluence/spaces/{key}/pages?limit=50")["items"]]
    users = [u["email"] for u in call("GET", f"/orgs/{org}/users")["items"]]
    groups = [g["name"] for g in call("GET", f"/orgs/{org}/groups")["items"]]
    attachment = call("POST", f"{site}/jira/issues/{issues[0]}/attachments?filename=fuzz.txt", b"fuzz", "text/plain")

    # With everything in it, fewer restore options are refused as "not in the backup".
    everything = {"product": "JIRA", "includeAttachments": True, "includeUsersAndGroups": True}
    policy = call("POST", f"{site}/policies", everything)["policyId"]
    backup = call("POST", f"/orgs/{org}/backups", {"policyId": policy})["backupId"]
    for _ in range(600):
        status = call("GET", f"/orgs/{org}/backups/{backup}")["status"]
        if status != "IN_PROGRESS":
            break
        time.sleep(0.1)
    if status != "COMPLETE":
        sys.exit(f"the fuzzer's backup ended {status}")
    # Connected after the backup, which stays in managed storage: exports copy it out.
    storage = call("POST", f"/orgs/{org}/storages", {"storageType": "filesystem", "path": storage_dir})["storageId"]
    call("PUT", f"/orgs/{org}/policies/{policy}", {"storageId": storage})

    dictionaries = {
        "org_ids": orgs,
        "cloud_ids": clouds,
        "project_keys": projects,
        "space_keys": spaces,
        "issue_keys": issues,
        "page_ids": pages,
        "attachment_ids": [attachment["attachmentId"]],
        "policy_ids": [policy],
        "storage_ids": [storage],
        "storage_dirs": [storage_dir],
        "backup_ids": [backup],
        "emails": users,
        "group_names": groups,
    }
    bindings = {
        "path.org_id": "org_ids",
        "path.cloud_id": "cloud_ids",
        "path.issue_key": "issue_keys",
        "path.page_id": "page_ids",
        "path.attachment_id": "attachment_ids",
        "path.policy_id": "policy_ids",
        "path.backup_id": "backup_ids",
        "path.storage_id": "storage_ids",
        "body.storageId": "storage_ids",
        "body.path": "storage_dirs",
        "body.policyId": "policy_ids",
        "body.backupId": "backup_ids",
        "body.cloudId": "cloud_ids",
        "body.[*].backupId": "backup_ids",
        "body.[*].cloudId": "cloud_ids",
        "body.parentId": "page_ids",
        "body.owner": "emails",
        "body.members[*]": "emails",
        "body.group": "group_names",
        "query.cloudId": "cloud_ids",
    }
    dictionaries = {name: values for name, values in dictionaries.items() if values}
    lines = ["# Written by scripts/fuzz_api_values.py for one fuzzing run.", "[parameters]"]
    for key, dictionary in bindings.items():
        if dictionary in dictionaries:
            lines.append(f'"{key}" = {{ dictionary = "{dictionary}", probability = {PROBABILITY} }}')
    # `{key}` is a project key under /jira/ and a space key under /confluence/.
    for app, dictionary in [("jira", "project_keys"), ("confluence", "space_keys")]:
        if dictionary in dictionaries:
            lines += ["", "[[operations]]", f'include-path-regex = "/{app}/"',
                      f'parameters = {{ "path.key" = {{ dictionary = "{dictionary}", probability = {PROBABILITY} }} }}']
    for name, values in dictionaries.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"fuzzing with {sum(map(len, dictionaries.values()))} existing ids and one complete backup ({backup})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Drives the GitLab double with python-gitlab, the client most GitLab users script with, and
checks every endpoint the product uses against GitLab's documented behaviour: status codes,
error bodies, pagination headers and fields (https://docs.gitlab.com/api/rest/).

Run by tests/tests/gitlab_fidelity.rs, which seeds the double and passes the world as JSON in
FIDELITY_WORLD. Prints one line per failed check and a summary; exits 1 if any check failed.
"""

import json
import os
import sys
import traceback

import gitlab
from gitlab import exceptions as gle

WORLD = json.loads(os.environ["FIDELITY_WORLD"])
URL = WORLD["url"]
PID = WORLD["project_id"]
ISSUE = WORLD["issue_iid"]
MR = WORLD["mr_iid"]

checks = 0
failures = []


def check(name, condition, detail=""):
    global checks
    checks += 1
    if not condition:
        failures.append(f"{name}: {detail}")


def section(fn):
    """Runs one group of checks; an exception fails the group instead of the run."""
    try:
        fn()
    except Exception:  # noqa: BLE001 - every failure must be reported, not crash the suite
        check(fn.__name__, False, traceback.format_exc(limit=3))
    return fn


def client(who):
    return gitlab.Gitlab(URL, private_token=WORLD["tokens"][who], retry_transient_errors=False)


maintainer = client("maintainer")
developer = client("developer")
bot = client("bot")
anonymous = gitlab.Gitlab(URL)


def raw(gl, method, path, **kwargs):
    """The HTTP response, or the GitlabHttpError GitLab's answer raised."""
    try:
        return gl.http_request(method, path, **kwargs), None
    except gle.GitlabHttpError as error:
        return None, error
    except gle.GitlabAuthenticationError as error:
        return None, error


def expect_error(name, gl, method, path, status, body, **kwargs):
    response, error = raw(gl, method, path, **kwargs)
    check(f"{name}: status", error is not None and error.response_code == status,
          f"expected {status}, got {response.status_code if response is not None else error.response_code}")
    if error is not None:
        try:
            got = json.loads(error.response_body)
        except (TypeError, ValueError):
            got = error.response_body
        check(f"{name}: body", body(got), f"body {got!r}")


@section
def version_and_metadata():
    version, revision = maintainer.version()
    check("GET /version: version", version == WORLD["gitlab_version"] + "-ee", version)
    check("GET /version: revision", bool(revision) and revision != "unknown", revision)
    meta = maintainer.http_get("/metadata")
    check("GET /metadata: fields", {"version", "revision", "kas", "enterprise"} <= set(meta), meta)
    expect_error("GET /version without a token", anonymous, "get", "/version", 401,
                 lambda b: b == {"message": "401 Unauthorized"})


@section
def current_user_and_token():
    bot.auth()
    check("GET /user: username", bot.user.username == WORLD["bot_username"], bot.user.username)
    check("GET /user: bot flag", getattr(bot.user, "bot", None) is True, bot.user.attributes)
    me = bot.http_get("/personal_access_tokens/self")
    check("GET /personal_access_tokens/self: fields",
          {"id", "name", "scopes", "active", "revoked", "expires_at", "user_id"} <= set(me), me)
    check("GET /personal_access_tokens/self: no token value", "token" not in me, me)
    expect_error("GET /user without a token", anonymous, "get", "/user", 401,
                 lambda b: b == {"message": "401 Unauthorized"})
    expect_error("GET /user with a bad token", gitlab.Gitlab(URL, private_token="glpat-nope"),
                 "get", "/user", 401, lambda b: b.get("message") == "401 Unauthorized")


@section
def todos():
    # First: GitLab marks a user's pending to-dos on an issue done when they comment there.
    items = bot.todos.list(get_all=True)
    check("GET /todos: the bot's mention", any(t.action_name in ("mentioned", "directly_addressed")
                                               for t in items), [t.attributes for t in items])
    for todo in items:
        check("GET /todos: fields", {"id", "project", "author", "action_name", "target_type",
                                     "target", "target_url", "body", "state", "created_at"}
              <= set(todo.attributes), sorted(todo.attributes))
        todo.mark_as_done()
    check("POST /todos/:id/mark_as_done", bot.todos.list(get_all=True) == [])


@section
def unknown_routes_are_404_whatever_the_method():
    expect_error("GET unknown route", maintainer, "get", "/no/such/route", 404,
                 lambda b: b == {"error": "404 Not Found"})
    expect_error("DELETE /user (known path, unknown method)", maintainer, "delete", "/user", 404,
                 lambda b: b == {"error": "404 Not Found"})
    expect_error("PATCH /projects/:id", maintainer, "patch", f"/projects/{PID}", 404,
                 lambda b: b == {"error": "404 Not Found"})


@section
def projects_show_ci_settings_to_maintainers_only():
    seen = maintainer.projects.get(PID)
    check("GET /projects/:id as Maintainer: role",
          seen.attributes.get("ci_pipeline_variables_minimum_override_role") == "maintainer",
          seen.attributes.get("ci_pipeline_variables_minimum_override_role"))
    check("GET /projects/:id as Maintainer: restrict",
          seen.attributes.get("restrict_user_defined_variables") is True,
          seen.attributes.get("restrict_user_defined_variables"))
    dev = developer.projects.get(PID)
    for field in ("ci_pipeline_variables_minimum_override_role", "restrict_user_defined_variables"):
        check(f"GET /projects/:id as Developer hides {field}", field not in dev.attributes,
              dev.attributes.get(field))
    check("GET /projects/:id: fields",
          {"id", "path_with_namespace", "default_branch", "http_url_to_repo", "web_url"}
          <= set(dev.attributes), sorted(dev.attributes))
    expect_error("GET /projects/:id unknown", maintainer, "get", "/projects/999999", 404,
                 lambda b: b == {"message": "404 Project Not Found"})
    expect_error("GET /projects/:id without a token (private)", anonymous, "get",
                 f"/projects/{PID}", 404, lambda b: b == {"message": "404 Project Not Found"})
    member = maintainer.projects.get(PID, lazy=True).members_all.get(WORLD["bot_id"])
    check("GET /projects/:id/members/all/:user_id", member.access_level == 30, member.attributes)


@section
def pagination_headers():
    issue = maintainer.projects.get(PID, lazy=True).issues.get(ISSUE)
    for n in range(5):
        issue.notes.create({"body": f"page filler {n}"})
    path = f"/projects/{PID}/issues/{ISSUE}/notes"
    first = maintainer.http_request("get", path, query_data={"per_page": 2})
    h = first.headers
    total = int(h.get("x-total", "-1"))
    check("x-total", total >= 5, h.get("x-total"))
    check("x-total-pages", h.get("x-total-pages") == str(-(-total // 2)), h.get("x-total-pages"))
    check("x-per-page", h.get("x-per-page") == "2", h.get("x-per-page"))
    check("x-page", h.get("x-page") == "1", h.get("x-page"))
    check("x-next-page", h.get("x-next-page") == "2", h.get("x-next-page"))
    check("x-prev-page empty on page 1", h.get("x-prev-page") == "", h.get("x-prev-page"))
    link = h.get("link", "")
    check("link rel=next", 'rel="next"' in link and "page=2" in link, link)
    check("link rel=first and last", 'rel="first"' in link and 'rel="last"' in link, link)
    last = maintainer.http_request("get", path, query_data={"per_page": 2, "page": h["x-total-pages"]})
    check("x-next-page empty on the last page", last.headers.get("x-next-page") == "",
          last.headers.get("x-next-page"))
    check("no rel=next on the last page", 'rel="next"' not in last.headers.get("link", ""),
          last.headers.get("link"))
    everything = list(issue.notes.list(iterator=True, per_page=2))
    check("python-gitlab follows every page", len(everything) == total,
          f"{len(everything)} of {total}")
    check("per_page above 100 is capped",
          maintainer.http_request("get", path, query_data={"per_page": 1000}).headers.get("x-per-page") == "100")


@section
def notes():
    issue = bot.projects.get(PID, lazy=True).issues.get(ISSUE)
    note = issue.notes.create({"body": "a note from the bot"})
    check("POST notes: 201 fields",
          {"id", "body", "author", "created_at", "updated_at", "system", "noteable_id",
           "noteable_type", "noteable_iid", "resolvable", "confidential", "internal"}
          <= set(note.attributes), sorted(note.attributes))
    check("POST notes: type null", note.attributes.get("type") is None, note.attributes.get("type"))
    check("POST notes: author", note.author["username"] == WORLD["bot_username"], note.author)
    note.body = "edited"
    note.save()
    check("PUT notes/:id", issue.notes.get(note.id).body == "edited")
    expect_error("POST notes without body", bot, "post",
                 f"/projects/{PID}/issues/{ISSUE}/notes", 400,
                 lambda b: b == {"error": "body is missing"})
    expect_error("GET notes/:id unknown", bot, "get",
                 f"/projects/{PID}/issues/{ISSUE}/notes/999999", 404,
                 lambda b: b.get("message", "").startswith("404"))
    listed = issue.notes.list(get_all=True, order_by="created_at", sort="asc")
    check("GET notes sorted ascending", [n.id for n in listed] == sorted(n.id for n in listed))
    note.delete()
    expect_error("GET a deleted note", bot, "get",
                 f"/projects/{PID}/issues/{ISSUE}/notes/{note.id}", 404,
                 lambda b: b.get("message", "").startswith("404"))
    internal = issue.notes.create({"body": "internal", "internal": True})
    check("POST notes internal", internal.internal is True, internal.attributes)


@section
def discussions_and_awards():
    project = bot.projects.get(PID, lazy=True)
    mr = project.mergerequests.get(MR)
    thread = mr.discussions.create({"body": "a thread"})
    check("POST discussions: fields", {"id", "individual_note", "notes"} <= set(thread.attributes),
          sorted(thread.attributes))
    check("POST discussions: not individual", thread.individual_note is False)
    reply = thread.notes.create({"body": "a reply"})
    check("POST discussions/:id/notes: type", reply.attributes.get("type") == "DiscussionNote",
          reply.attributes.get("type"))
    thread = mr.discussions.get(thread.id)
    check("GET discussions/:id: two notes", len(thread.attributes["notes"]) == 2)
    check("MR thread notes are resolvable", all(n["resolvable"] for n in thread.attributes["notes"]))
    thread.resolved = True
    thread.save()
    thread = mr.discussions.get(thread.id)
    check("PUT discussions/:id resolved",
          all(n.get("resolved") for n in thread.attributes["notes"]), thread.attributes["notes"])
    issue_thread = project.issues.get(ISSUE).discussions.create({"body": "issue thread"})
    check("issue threads are not resolvable",
          not issue_thread.attributes["notes"][0]["resolvable"])
    note = project.issues.get(ISSUE).notes.create({"body": "react to me"})
    award = note.awardemojis.create({"name": "eyes"})
    check("POST award_emoji: fields", {"id", "name", "user", "awardable_id", "awardable_type"}
          <= set(award.attributes), sorted(award.attributes))
    check("GET award_emoji", [a.name for a in note.awardemojis.list(get_all=True)] == ["eyes"])
    award.delete()
    check("DELETE award_emoji", note.awardemojis.list(get_all=True) == [])


@section
def merge_requests():
    project = maintainer.projects.get(PID, lazy=True)
    listed = project.mergerequests.list(get_all=True, state="opened")
    check("GET merge_requests: found", [m.iid for m in listed] == [MR], [m.iid for m in listed])
    item = listed[0].attributes
    for field in ("diff_refs", "changes_count", "user", "head_pipeline", "subscribed"):
        check(f"GET merge_requests leaves out {field} (MergeRequestBasic)", field not in item,
              item.get(field))
    check("GET merge_requests: basic fields",
          {"id", "iid", "project_id", "source_branch", "target_branch", "source_project_id",
           "target_project_id", "sha", "draft", "labels", "author", "web_url"} <= set(item),
          sorted(item))
    one = project.mergerequests.get(MR)
    check("GET merge_requests/:iid: diff_refs",
          set(one.diff_refs or {}) >= {"base_sha", "head_sha", "start_sha"}, one.diff_refs)
    check("GET merge_requests/:iid: changes_count is a string",
          isinstance(one.changes_count, str), one.changes_count)
    expect_error("PUT merge_requests/:iid with no fields", maintainer, "put",
                 f"/projects/{PID}/merge_requests/{MR}", 400,
                 lambda b: b.get("error", "").endswith(
                     "are missing, at least one parameter must be provided"))
    one.title = "Retitled"
    one.save()
    check("PUT merge_requests/:iid title", project.mergerequests.get(MR).title == "Retitled")
    expect_error("POST merge_requests for the same branch", maintainer, "post",
                 f"/projects/{PID}/merge_requests", 409,
                 lambda b: "already exists" in json.dumps(b),
                 post_data={"source_branch": "feature", "target_branch": "main", "title": "again"})
    expect_error("POST merge_requests without a title", maintainer, "post",
                 f"/projects/{PID}/merge_requests", 400,
                 lambda b: b == {"error": "title is missing"},
                 post_data={"source_branch": "feature", "target_branch": "main"})
    diffs = maintainer.http_get(f"/projects/{PID}/merge_requests/{MR}/diffs")
    check("GET merge_requests/:iid/diffs: fields",
          bool(diffs) and {"old_path", "new_path", "diff", "new_file", "renamed_file",
                           "deleted_file"} <= set(diffs[0]), diffs[:1])
    check("GET merge_requests/:iid/diffs: hunks only", diffs[0]["diff"].startswith("@@"),
          diffs[0]["diff"][:40])
    uni = maintainer.http_get(f"/projects/{PID}/merge_requests/{MR}/diffs",
                              query_data={"unidiff": "true"})
    check("GET merge_requests/:iid/diffs?unidiff=true: header lines",
          uni[0]["diff"].startswith("--- /dev/null\n+++ b/feature.txt\n@@"), uni[0]["diff"][:60])


@section
def pipelines_and_variables():
    mine = maintainer.projects.get(PID, lazy=True)
    as_dev = developer.projects.get(PID, lazy=True)
    expect_error("POST /pipeline with variables below the minimum role", developer, "post",
                 f"/projects/{PID}/pipeline", 400,
                 lambda b: b == {"message": {"base": ["Insufficient permissions to set pipeline variables"]}},
                 post_data={"ref": "main", "variables": [{"key": "X", "value": "1"}]})
    plain = as_dev.pipelines.create({"ref": "main"})
    check("POST /pipeline without variables as Developer", plain.status in ("created", "pending"),
          plain.attributes.get("status"))
    with_vars = mine.pipelines.create({"ref": "main", "variables": [{"key": "X", "value": "1"}]})
    check("POST /pipeline with variables as Maintainer", with_vars.source == "api", with_vars.source)
    expect_error("POST /pipeline on an unknown ref", maintainer, "post", f"/projects/{PID}/pipeline",
                 400, lambda b: "base" in json.dumps(b) or "ref" in json.dumps(b),
                 post_data={"ref": "no-such-branch"})
    listed = mine.pipelines.list(get_all=True)
    check("GET pipelines newest first", [p.id for p in listed] == sorted((p.id for p in listed), reverse=True))
    check("GET pipelines: PipelineBasic fields",
          {"id", "iid", "project_id", "sha", "ref", "status", "source", "created_at",
           "updated_at", "web_url"} <= set(listed[0].attributes), sorted(listed[0].attributes))
    for field in ("user", "detailed_status", "finished_at", "duration"):
        check(f"GET pipelines leaves out {field}", field not in listed[0].attributes,
              listed[0].attributes.get(field))
    one = mine.pipelines.get(listed[0].id)
    check("GET pipelines/:id: user and detailed_status",
          "user" in one.attributes and "detailed_status" in one.attributes, sorted(one.attributes))
    created = mine.variables.create({"key": "HIDDEN_ONE", "value": "s3cr3t-value-123",
                                     "masked": True, "masked_and_hidden": True})
    check("POST variables masked_and_hidden: hidden", created.attributes.get("hidden") is True,
          created.attributes)
    shown = {v.key: v for v in mine.variables.list(get_all=True)}
    check("GET variables: hidden value is null", shown["HIDDEN_ONE"].value is None,
          shown["HIDDEN_ONE"].attributes)
    expect_error("GET variables as Developer", developer, "get", f"/projects/{PID}/variables", 403,
                 lambda b: b == {"message": "403 Forbidden"})
    expect_error("POST variables unmaskable and masked", maintainer, "post",
                 f"/projects/{PID}/variables", 400,
                 lambda b: "value" in b.get("message", {}),
                 post_data={"key": "BAD", "value": "short", "masked": True})


@section
def hooks_schedules_tokens_and_repository():
    project = maintainer.projects.get(PID, lazy=True)
    hook = project.hooks.create({"url": "https://relay.example.com/hook", "note_events": True,
                                 "confidential_note_events": True, "token": "t0ken"})
    check("POST hooks: no token in the answer", "token" not in hook.attributes, hook.attributes)
    check("GET hooks", any(h.id == hook.id for h in project.hooks.list(get_all=True)))
    hook.delete()
    schedule = project.pipelineschedules.create({"description": "scan", "ref": "main",
                                                 "cron": "*/5 * * * *"})
    check("POST pipeline_schedules: fields", {"id", "description", "ref", "cron", "active", "owner"}
          <= set(schedule.attributes), sorted(schedule.attributes))
    token = project.access_tokens.create({"name": "fidelity", "scopes": ["api"], "access_level": 30,
                                          "expires_at": WORLD["token_expiry_ok"]})
    check("POST access_tokens: token shown once", bool(getattr(token, "token", "")))
    check("GET access_tokens: token not shown",
          all("token" not in t.attributes for t in project.access_tokens.list(get_all=True)))
    expect_error("POST access_tokens beyond the instance maximum", maintainer, "post",
                 f"/projects/{PID}/access_tokens", 400,
                 lambda b: "Expires at must be before" in b.get("message", ""),
                 post_data={"name": "too-long", "scopes": ["api"], "access_level": 30,
                            "expires_at": WORLD["token_expiry_too_late"]})
    readme = project.files.get(file_path="README.md", ref="main")
    check("GET repository/files: base64 content", readme.encoding == "base64" and readme.content,
          readme.attributes.get("encoding"))
    expect_error("GET repository/files missing", maintainer, "get",
                 f"/projects/{PID}/repository/files/nope.txt", 404,
                 lambda b: b == {"message": "404 File Not Found"}, query_data={"ref": "main"})
    branch = project.branches.create({"branch": "fidelity-branch", "ref": "main"})
    check("POST repository/branches", branch.name == "fidelity-branch")
    commit = project.commits.create({"branch": "fidelity-branch", "commit_message": "add a file",
                                     "actions": [{"action": "create", "file_path": "f.txt",
                                                  "content": "hi\n"}]})
    check("POST repository/commits: id", len(commit.id) == 40, commit.attributes)


print(f"fidelity: {checks} checks, {len(failures)} failed")
for failure in failures:
    print(f"FAIL {failure}")
sys.exit(1 if failures else 0)

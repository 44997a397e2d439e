//! Git smart HTTP for the double's projects, served by the real `git http-backend` (run as a CGI
//! program) so that clones, fetches and pushes behave exactly like git, while access is decided
//! the way GitLab decides it.
//!
//! GitLab's answers reproduced here (`app/controllers/repositories/git_http_controller.rb`,
//! `git_http_client_controller.rb`, `lib/gitlab/git_access.rb`, `lib/gitlab/checks/`):
//! - no or wrong credentials: `401` with `WWW-Authenticate: Basic realm="GitLab"` ([`unauthorized`]);
//! - a project the user cannot see: `404` with a plain-text "could not be found" message;
//! - a push without push access: `403`, plain text `You are not allowed to push code to this project.`,
//!   already on `info/refs?service=git-receive-pack`;
//! - a push to a protected branch: the pre-receive check prints
//!   `GitLab: You are not allowed to push code to protected branches on this project.` and git
//!   reports `[remote rejected] … (pre-receive hook declined)`;
//! - `HEAD` on `info/refs`: `403`; the dumb HTTP protocol is not served.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use base64::Engine;
use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio_util::io::ReaderStream;

use super::repo::git_command;

/// What the authenticated user may do with one project's repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitAccess {
    pub username: String,
    pub can_read: bool,
    pub can_push: bool,
    /// Branch names or `*` wildcards (matching any characters, `/` included, as GitLab's
    /// protected branch wildcards do) this user may not push to.
    pub protected_branches: Vec<String>,
}

/// The username and password of an HTTP Basic `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Reads HTTP Basic credentials, as git sends them (GitLab accepts any username with a token as
/// the password, e.g. `oauth2:<token>`:
/// <https://docs.gitlab.com/user/profile/personal_access_tokens/>).
pub fn basic_credentials(headers: &HeaderMap) -> Option<BasicCredentials> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(BasicCredentials {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

/// GitLab's answer to a git client without valid credentials: `401` with a Basic challenge, so
/// git asks its credential helpers (or fails with "Authentication failed").
pub fn unauthorized() -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, "HTTP Basic: Access denied");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"GitLab\""),
    );
    response
}

const PROJECT_NOT_FOUND: &str =
    "The project you were looking for could not be found or you don't have permission to view it.";
const PUSH_CODE_DENIED: &str = "You are not allowed to push code to this project.";
const COMMAND_NOT_ALLOWED: &str = "The command you're trying to execute is not allowed.";

/// Environment variable carrying the protected branch patterns to the pre-receive hook.
const PROTECTED_ENV: &str = "GITLAB_DOUBLE_PROTECTED_BRANCHES";

/// The pre-receive hook installed in every served repository. It only refuses when the request
/// carried protected branch patterns, so pushes made outside `serve_git` are unaffected. Branch
/// names cannot contain `?`, `[` or `\` (git check-ref-format), so a shell `case` pattern built
/// from a protected name has `*` as its only wildcard, which is GitLab's wildcard semantics.
const PRE_RECEIVE_HOOK: &str = r#"#!/bin/sh
# Installed by the GitLab double: refuses pushes to protected branches like GitLab's pre-receive check.
[ -n "$GITLAB_DOUBLE_PROTECTED_BRANCHES" ] || exit 0
set -f
refused=0
while read -r old new ref; do
  case "$ref" in
    refs/heads/*) branch=${ref#refs/heads/} ;;
    *) continue ;;
  esac
  IFS='
'
  for pattern in $GITLAB_DOUBLE_PROTECTED_BRANCHES; do
    case "$branch" in
      $pattern) refused=1 ;;
    esac
  done
  unset IFS
done
if [ "$refused" = 1 ]; then
  echo "GitLab: You are not allowed to push code to protected branches on this project." >&2
  exit 1
fi
exit 0
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    UploadPack,
    ReceivePack,
}

/// Serves one smart HTTP request for the bare repository at `repo`. `path_info` is the part of
/// the URL after `<project>.git`: `/info/refs`, `/git-upload-pack` or `/git-receive-pack`.
/// The caller has authenticated the user (see [`basic_credentials`], [`unauthorized`]) and says
/// what they may do in `access`.
pub async fn serve_git(
    repo: &Path,
    path_info: &str,
    request: Request,
    access: GitAccess,
) -> Response {
    if !access.can_read {
        return plain(StatusCode::NOT_FOUND, PROJECT_NOT_FOUND);
    }
    let service = match (request.method(), path_info) {
        (&Method::HEAD, "/info/refs") => return plain(StatusCode::FORBIDDEN, ""),
        (&Method::GET, "/info/refs") => match query_service(request.uri().query()) {
            Some(service) => service,
            None => return plain(StatusCode::FORBIDDEN, COMMAND_NOT_ALLOWED),
        },
        (&Method::POST, "/git-upload-pack") => Service::UploadPack,
        (&Method::POST, "/git-receive-pack") => Service::ReceivePack,
        _ => return plain(StatusCode::NOT_FOUND, PROJECT_NOT_FOUND),
    };
    if service == Service::ReceivePack && !access.can_push {
        return plain(StatusCode::FORBIDDEN, PUSH_CODE_DENIED);
    }
    if service == Service::ReceivePack
        && let Err(error) = install_pre_receive_hook(repo)
    {
        tracing::error!(repo = %repo.display(), %error, "cannot install the pre-receive hook");
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot prepare the repository for a push",
        );
    }
    match run_backend(repo, path_info, request, &access).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(repo = %repo.display(), path_info, error = format!("{error:#}"), "git http-backend failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "git http-backend failed")
        }
    }
}

fn query_service(query: Option<&str>) -> Option<Service> {
    url::form_urlencoded::parse(query?.as_bytes()).find_map(|(key, value)| match (&*key, &*value) {
        ("service", "git-upload-pack") => Some(Service::UploadPack),
        ("service", "git-receive-pack") => Some(Service::ReceivePack),
        _ => None,
    })
}

fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Writes the hook unless it is already there, atomically so concurrent pushes never run a
/// half-written script.
fn install_pre_receive_hook(repo: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let hooks = repo.join("hooks");
    let target = hooks.join("pre-receive");
    if std::fs::read(&target).is_ok_and(|current| current == PRE_RECEIVE_HOOK.as_bytes()) {
        return Ok(());
    }
    std::fs::create_dir_all(&hooks)?;
    let mut file = tempfile::NamedTempFile::new_in(&hooks)?;
    std::io::Write::write_all(&mut file, PRE_RECEIVE_HOOK.as_bytes())?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o755))?;
    file.persist(&target).map_err(|error| error.error)?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum BackendError {
    #[error("could not start git http-backend")]
    Spawn(#[source] std::io::Error),
    #[error("git http-backend has no {0} pipe")]
    Pipe(&'static str),
    #[error("reading the CGI headers of git http-backend")]
    Read(#[source] std::io::Error),
    #[error("git http-backend ended before its CGI headers; stderr: {0}")]
    NoHeaders(String),
    #[error("git http-backend sent a malformed CGI header line {0:?}")]
    BadHeader(String),
}

async fn run_backend(
    repo: &Path,
    path_info: &str,
    request: Request,
    access: &GitAccess,
) -> Result<Response, BackendError> {
    let mut command = Command::from(git_command());
    command
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", repo)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("PATH_INFO", path_info)
        .env("REQUEST_METHOD", request.method().as_str())
        .env("QUERY_STRING", request.uri().query().unwrap_or(""))
        .env("REMOTE_USER", &access.username)
        .env("REMOTE_ADDR", remote_addr(&request))
        // Pushing is decided by `GitAccess`, not by http-backend's REMOTE_USER heuristic.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env(PROTECTED_ENV, access.protected_branches.join("\n"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let headers = request.headers();
    let forwarded = [
        (header::CONTENT_TYPE, "CONTENT_TYPE"),
        (header::CONTENT_LENGTH, "CONTENT_LENGTH"),
        (header::CONTENT_ENCODING, "HTTP_CONTENT_ENCODING"),
        (HeaderName::from_static("git-protocol"), "GIT_PROTOCOL"),
        (HeaderName::from_static("git-protocol"), "HTTP_GIT_PROTOCOL"),
    ];
    for (name, variable) in forwarded {
        if let Some(value) = headers.get(&name).and_then(|value| value.to_str().ok()) {
            command.env(variable, value);
        }
    }

    let mut child = command.spawn().map_err(BackendError::Spawn)?;
    let stdin = child.stdin.take().ok_or(BackendError::Pipe("stdin"))?;
    let stdout = child.stdout.take().ok_or(BackendError::Pipe("stdout"))?;
    let stderr = child.stderr.take().ok_or(BackendError::Pipe("stderr"))?;
    tokio::spawn(feed_body(request.into_body(), stdin));
    let stderr_text = tokio::spawn(read_all(stderr));
    let mut stdout = BufReader::new(stdout);
    let parsed = read_cgi_headers(&mut stdout).await;
    tokio::spawn(async move {
        match child.wait().await {
            Ok(status) if !status.success() => tracing::debug!(%status, "git http-backend exited"),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "waiting for git http-backend"),
        }
    });
    let (status, headers) = match parsed? {
        Some(parsed) => parsed,
        None => {
            let stderr = stderr_text.await.unwrap_or_default();
            return Err(BackendError::NoHeaders(stderr));
        }
    };
    tokio::spawn(async move {
        let stderr = stderr_text.await.unwrap_or_default();
        if !stderr.trim().is_empty() {
            tracing::debug!(stderr = stderr.trim(), "git http-backend stderr");
        }
    });
    let mut response = Response::new(Body::from_stream(ReaderStream::new(stdout)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn remote_addr(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "127.0.0.1".to_owned(),
            |ConnectInfo(peer)| peer.ip().to_string(),
        )
}

/// Copies the request body into http-backend, which decompresses a gzip body itself when told
/// through `HTTP_CONTENT_ENCODING`.
async fn feed_body(body: Body, mut stdin: ChildStdin) {
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let written = match chunk {
            Ok(bytes) => stdin.write_all(&bytes).await,
            Err(error) => {
                tracing::debug!(%error, "client request body ended with an error");
                return;
            }
        };
        if let Err(error) = written {
            // http-backend stopped reading (it failed or answered early); its output says why.
            tracing::debug!(%error, "git http-backend stopped reading the request body");
            return;
        }
    }
    if let Err(error) = stdin.shutdown().await {
        tracing::debug!(%error, "closing the request body pipe");
    }
}

async fn read_all(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut bytes = Vec::new();
    if let Err(error) = pipe.read_to_end(&mut bytes).await {
        tracing::debug!(%error, "reading git http-backend stderr");
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads CGI response headers up to the blank line. `Status: 403 Forbidden` sets the status
/// (200 when absent, as CGI specifies). `None` when the program printed nothing at all.
async fn read_cgi_headers(
    stdout: &mut BufReader<ChildStdout>,
) -> Result<Option<(StatusCode, HeaderMap)>, BackendError> {
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    let mut saw_any = false;
    loop {
        let mut line = String::new();
        let read = stdout
            .read_line(&mut line)
            .await
            .map_err(BackendError::Read)?;
        if read == 0 {
            return if saw_any {
                Err(BackendError::BadHeader(line))
            } else {
                Ok(None)
            };
        }
        saw_any = true;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(Some((status, headers)));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| BackendError::BadHeader(line.to_owned()))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value
                .split(' ')
                .next()
                .and_then(|code| code.parse::<u16>().ok());
            status = code
                .and_then(|code| StatusCode::from_u16(code).ok())
                .ok_or_else(|| BackendError::BadHeader(line.to_owned()))?;
            continue;
        }
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| BackendError::BadHeader(line.to_owned()))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| BackendError::BadHeader(line.to_owned()))?;
        headers.append(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic b2F1dGgyOmdscGF0LXNlY3JldA=="),
        );
        let credentials = basic_credentials(&headers).expect("credentials");
        assert_eq!(credentials.username, "oauth2");
        assert_eq!(credentials.password, "glpat-secret");
        assert!(!format!("{credentials:?}").contains("glpat-secret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(basic_credentials(&headers), None);
    }

    #[test]
    fn unauthorized_challenges_like_gitlab() {
        let response = unauthorized();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Basic realm=\"GitLab\""
        );
    }

    #[test]
    fn service_comes_from_the_query() {
        assert_eq!(
            query_service(Some("service=git-upload-pack")),
            Some(Service::UploadPack)
        );
        assert_eq!(
            query_service(Some("x=1&service=git-receive-pack")),
            Some(Service::ReceivePack)
        );
        assert_eq!(query_service(Some("service=git-upload-archive")), None);
        assert_eq!(query_service(None), None);
    }
}

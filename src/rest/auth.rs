//! REST users and roles: Kafka Connect's Basic-auth REST extension (`rest.users.file`, the
//! credentials file of its `PropertyFileLoginModule`), plus roles (`rest.roles.file`).
//!
//! - The users file is a Java properties file, `user: password`, `user=password` or
//!   `user password`; the whole value is the password (`alice: secret,admin` has the password
//!   `secret,admin`). A value beginning with `$argon2` is an argon2 PHC string
//!   (`$argon2id$v=19$...`, see [`hash_password`]); any other value is the password itself.
//! - An empty users file lets every request through, as Kafka Connect does (WARN at load).
//! - The roles file maps users to `admin` or `viewer`; a user it does not list is an admin. A
//!   viewer may only read (GET and HEAD).
//! - No or wrong credentials: 401 with Kafka Connect's plain-text body
//!   ([`UNAUTHORIZED_MESSAGE`]). A viewer's write: 403 with the API's JSON error body.
//! - `/health` stays open, for probes.
//!
//! Plain passwords are compared in constant time (a byte loop over the longer of the two, no
//! early exit). Argon2 verification costs tens of milliseconds, so it runs on the blocking pool,
//! at most one per core at a time, and each user keeps the last password that verified: a later
//! request presenting the same bytes is accepted after a constant-time comparison with it. The
//! cache is therefore bounded by the users in the file (one entry each).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::ApiError;

/// Kafka Connect's 401 body (`JaasBasicAuthFilter`), sent as `text/plain`.
pub const UNAUTHORIZED_MESSAGE: &str = "User cannot access the resource.";

/// Paths served without credentials (probes).
const OPEN_PATHS: &[&str] = &["/health"];

/// Errors loading the users or roles file, or hashing a password.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the REST {what} file {path}: {source}")]
    Read { what: &'static str, path: String, source: std::io::Error },
    #[error(
        "REST users file: the password of user '{user}' starts with $argon2 but is not a valid argon2 hash: {reason}"
    )]
    BadHash { user: String, reason: String },
    #[error("REST roles file: user '{user}' has role '{value}'; the roles are admin and viewer")]
    UnknownRole { user: String, value: String },
    #[error("REST roles file: user '{user}' (role '{value}') is not in the REST users file")]
    UnknownUser { user: String, value: String },
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// GET and HEAD only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may make a request with this method.
    pub fn permits(self, method: &Method) -> bool {
        match self {
            Role::Admin => true,
            Role::Viewer => method == Method::GET || method == Method::HEAD,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated user of a request, put in the request's extensions by [`require_user`].
/// Absent when the users file is empty (every request permitted) and on open paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestUser {
    pub name: String,
    pub role: Role,
}

enum Secret {
    /// Compared in full, in constant time.
    Plain(Vec<u8>),
    /// An argon2 PHC string, checked at load.
    Argon2(Arc<str>),
}

struct UserEntry {
    secret: Secret,
    role: Role,
    /// The last password that verified against an argon2 hash.
    verified: Mutex<Option<Vec<u8>>>,
}

/// The users and roles of the REST API.
pub struct RestAuth {
    users: HashMap<String, UserEntry>,
    /// Bounds the argon2 verifications running at once (they are CPU-bound).
    argon2_slots: tokio::sync::Semaphore,
}

impl fmt::Debug for RestAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the passwords.
        let mut users: Vec<(&str, &str)> = self.users.iter().map(|(n, u)| (n.as_str(), u.role.as_str())).collect();
        users.sort_unstable();
        f.debug_struct("RestAuth").field("users", &users).finish()
    }
}

impl RestAuth {
    /// Read the users file (`rest.users.file`) and, if given, the roles file
    /// (`rest.roles.file`). A missing or unreadable file is an error.
    pub fn load(users: &Path, roles: Option<&Path>) -> Result<RestAuth, AuthError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read_to_string(path).map_err(|source| AuthError::Read {
                what,
                path: path.display().to_string(),
                source,
            })
        };
        let users_text = read("users", users)?;
        let roles_text = match roles {
            Some(path) => Some(read("roles", path)?),
            None => None,
        };
        let auth = Self::from_text(&users_text, roles_text.as_deref())?;
        if auth.permits_all() {
            tracing::warn!(
                path = %users.display(),
                "The REST users file lists no users: every REST request is permitted, as in Kafka Connect."
            );
        } else {
            tracing::info!(path = %users.display(), users = auth.users.len(), "REST authentication on.");
        }
        Ok(auth)
    }

    /// [`RestAuth::load`] from the files' text.
    pub fn from_text(users: &str, roles: Option<&str>) -> Result<RestAuth, AuthError> {
        let mut entries = HashMap::new();
        for (user, value) in crate::config::parse_properties(users) {
            let secret = if value.starts_with("$argon2") {
                check_argon2_hash(&value).map_err(|reason| AuthError::BadHash { user: user.clone(), reason })?;
                Secret::Argon2(Arc::from(value.as_str()))
            } else {
                Secret::Plain(value.into_bytes())
            };
            entries.insert(user, UserEntry { secret, role: Role::Admin, verified: Mutex::new(None) });
        }
        if let Some(roles) = roles {
            for (user, value) in crate::config::parse_properties(roles) {
                let role = match value.trim() {
                    v if v.eq_ignore_ascii_case("admin") => Role::Admin,
                    v if v.eq_ignore_ascii_case("viewer") => Role::Viewer,
                    _ => return Err(AuthError::UnknownRole { user, value }),
                };
                match entries.get_mut(&user) {
                    Some(entry) => entry.role = role,
                    None => return Err(AuthError::UnknownUser { user, value }),
                }
            }
        }
        let slots = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Ok(RestAuth { users: entries, argon2_slots: tokio::sync::Semaphore::new(slots) })
    }

    /// True when the users file is empty: every request is permitted.
    pub fn permits_all(&self) -> bool {
        self.users.is_empty()
    }

    /// A listed user's role.
    pub fn role(&self, user: &str) -> Option<Role> {
        self.users.get(user).map(|u| u.role)
    }

    /// Check a user's password; `Some(role)` when it is right.
    pub async fn authenticate(&self, user: &str, password: &str) -> Option<Role> {
        let entry = self.users.get(user)?;
        let ok = match &entry.secret {
            Secret::Plain(expected) => constant_time_eq(expected, password.as_bytes()),
            Secret::Argon2(phc) => {
                let cached = entry
                    .verified
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_deref()
                    .is_some_and(|last| constant_time_eq(last, password.as_bytes()));
                cached || self.verify_argon2(entry, phc.clone(), password).await
            }
        };
        ok.then_some(entry.role)
    }

    async fn verify_argon2(&self, entry: &UserEntry, phc: Arc<str>, password: &str) -> bool {
        let Ok(_slot) = self.argon2_slots.acquire().await else { return false };
        let presented = password.as_bytes().to_vec();
        let ok = tokio::task::spawn_blocking(move || {
            use argon2::PasswordVerifier as _;
            let ok = argon2::PasswordHash::new(&phc)
                .is_ok_and(|hash| argon2::Argon2::default().verify_password(&presented, &hash).is_ok());
            ok.then_some(presented)
        })
        .await;
        match ok {
            Ok(Some(presented)) => {
                *entry.verified.lock().unwrap_or_else(|e| e.into_inner()) = Some(presented);
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::error!(error = %e, "Argon2 password verification failed to run.");
                false
            }
        }
    }
}

/// A PHC string argon2 can verify against: an argon2 algorithm, valid parameters and version,
/// a salt and a hash.
fn check_argon2_hash(phc: &str) -> Result<(), String> {
    let hash = argon2::PasswordHash::new(phc).map_err(|e| e.to_string())?;
    argon2::Algorithm::try_from(hash.algorithm).map_err(|e| e.to_string())?;
    argon2::Params::try_from(&hash).map_err(|e| e.to_string())?;
    if let Some(v) = hash.version {
        argon2::Version::try_from(v).map_err(|e| e.to_string())?;
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("no salt or no hash".into());
    }
    Ok(())
}

/// Compare in time that depends only on the lengths: every byte of the longer input is looked
/// at, with no early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(std::hint::black_box(x ^ y));
    }
    std::hint::black_box(diff) == 0
}

/// Hash a password for the users file: an argon2id PHC string (`$argon2id$v=19$...`) with
/// argon2's default parameters and a random 128-bit salt from the OS.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    use argon2::PasswordHasher as _;
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| AuthError::Hash(format!("cannot read random bytes: {e}")))?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Java's `Base64.getDecoder()`: the standard alphabet, padding optional.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Why a request's credentials were refused (logged, never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoHeader,
    NotBasic,
    BadBase64,
    NotUtf8,
    NoColon,
    EmptyUser,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::NoHeader => "no Authorization header",
            Refusal::NotBasic => "not Basic credentials",
            Refusal::BadBase64 => "invalid Base64",
            Refusal::NotUtf8 => "not UTF-8",
            Refusal::NoColon => "no ':' between user and password",
            Refusal::EmptyUser => "empty user",
        }
    }
}

/// `Authorization: Basic <base64(user:password)>`, as Kafka Connect reads it: the scheme in any
/// case, the decoded text split at its first `:`.
fn basic_credentials(value: Option<&HeaderValue>) -> Result<(String, String), Refusal> {
    let value = value.ok_or(Refusal::NoHeader)?.to_str().map_err(|_| Refusal::NotBasic)?.trim();
    let (scheme, encoded) = value.split_once(' ').ok_or(Refusal::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Refusal::NotBasic);
    }
    let decoded = BASE64.decode(encoded.trim()).map_err(|_| Refusal::BadBase64)?;
    let decoded = String::from_utf8(decoded).map_err(|_| Refusal::NotUtf8)?;
    let (user, password) = decoded.split_once(':').ok_or(Refusal::NoColon)?;
    if user.is_empty() {
        return Err(Refusal::EmptyUser);
    }
    Ok((user.to_string(), password.to_string()))
}

fn unauthorized() -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, UNAUTHORIZED_MESSAGE).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// The REST middleware: use with `axum::middleware::from_fn_with_state(auth, require_user)`.
pub async fn require_user(State(auth): State<Arc<RestAuth>>, mut req: Request, next: Next) -> Response {
    if auth.permits_all() || OPEN_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let (user, password) = match basic_credentials(req.headers().get(header::AUTHORIZATION)) {
        Ok(c) => c,
        Err(refusal) => {
            tracing::debug!(method = %req.method(), path = req.uri().path(), reason = refusal.as_str(), "REST request refused.");
            return unauthorized();
        }
    };
    let Some(role) = auth.authenticate(&user, &password).await else {
        tracing::info!(user = %user, method = %req.method(), path = req.uri().path(), "REST request refused: unknown user or wrong password.");
        return unauthorized();
    };
    if !role.permits(req.method()) {
        tracing::info!(user = %user, role = %role, method = %req.method(), path = req.uri().path(), "REST request refused: role may not write.");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!("User '{user}' has the role {role}, which may only read (GET); {} is not allowed", req.method()),
        )
        .into_response();
    }
    req.extensions_mut().insert(RestUser { name: user, role });
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    fn app(auth: RestAuth) -> axum::Router {
        axum::Router::new()
            .route("/connectors", get(|| async { "list" }).post(|| async { "created" }))
            .route(
                "/connectors/{name}",
                get(|| async { "info" })
                    .put(|| async { "put" })
                    .delete(|| async { "deleted" })
                    .patch(|| async { "patched" }),
            )
            .route("/health", get(|| async { "healthy" }))
            .route(
                "/whoami",
                get(|user: Option<axum::Extension<RestUser>>| async move {
                    user.map(|u| format!("{}:{}", u.name, u.role)).unwrap_or_default()
                }),
            )
            .layer(axum::middleware::from_fn_with_state(Arc::new(auth), require_user))
    }

    fn basic(user_password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
    }

    async fn call(
        app: &axum::Router,
        method: Method,
        path: &str,
        authorization: Option<&str>,
    ) -> (StatusCode, String, String) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(a) = authorization {
            req = req.header(header::AUTHORIZATION, a);
        }
        let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = resp.status();
        let content_type =
            resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        (status, content_type, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn assert_401(app: &axum::Router, method: Method, path: &str, authorization: Option<&str>) {
        let (status, content_type, body) = call(app, method, path, authorization).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(content_type, "text/plain");
        assert_eq!(body, UNAUTHORIZED_MESSAGE);
    }

    #[tokio::test]
    async fn the_three_separators_and_the_whole_value_is_the_password() {
        let auth = RestAuth::from_text("# comment\nalice: secret,admin\nbob=pw\ncarol  pass word\n", None).unwrap();
        let app = app(auth);
        for good in ["alice:secret,admin", "bob:pw", "carol:pass word"] {
            let (status, _, body) = call(&app, Method::GET, "/connectors", Some(&basic(good))).await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, "list"), "{good}");
            let (status, _, _) = call(&app, Method::POST, "/connectors", Some(&basic(good))).await;
            assert_eq!(status, StatusCode::OK, "every user of a Kafka Connect file may write");
        }
        assert_401(&app, Method::GET, "/connectors", Some(&basic("alice:secret"))).await;
        assert_401(&app, Method::GET, "/connectors", Some(&basic("carol:pass"))).await;
    }

    #[tokio::test]
    async fn refused_credentials_get_kafka_connects_401() {
        let app = app(RestAuth::from_text("alice: secret\n", None).unwrap());
        assert_401(&app, Method::GET, "/connectors", None).await;
        assert_401(&app, Method::GET, "/connectors", Some(&basic("alice:wrong"))).await;
        assert_401(&app, Method::GET, "/connectors", Some(&basic("alice:secretx"))).await;
        assert_401(&app, Method::GET, "/connectors", Some(&basic("mallory:secret"))).await;
        assert_401(&app, Method::GET, "/connectors", Some(&basic(":secret"))).await;
        assert_401(&app, Method::GET, "/connectors", Some(&basic("alicesecret"))).await;
        assert_401(&app, Method::GET, "/connectors", Some("Bearer abc")).await;
        assert_401(&app, Method::GET, "/connectors", Some("Basic")).await;
        assert_401(&app, Method::GET, "/connectors", Some("Basic !!!not-base64!!!")).await;
        assert_401(&app, Method::POST, "/connectors", Some("Basic %%%")).await;
        // The scheme in any case; padding optional, as Java's decoder.
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode("alice:secret");
        let (status, _, _) = call(&app, Method::GET, "/connectors", Some(&format!("bAsIc {encoded}"))).await;
        assert_eq!(status, StatusCode::OK);
        // The password split at the first ':' only.
        let app = self::app(RestAuth::from_text("alice: a:b\n", None).unwrap());
        let (status, _, _) = call(&app, Method::GET, "/connectors", Some(&basic("alice:a:b"))).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_empty_users_file_permits_everything() {
        let app = app(RestAuth::from_text("# nobody\n\n", None).unwrap());
        let (status, _, _) = call(&app, Method::DELETE, "/connectors/x", None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = call(&app, Method::POST, "/connectors", Some("Basic %%%")).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn health_is_open() {
        let app = app(RestAuth::from_text("alice: secret\n", None).unwrap());
        let (status, _, body) = call(&app, Method::GET, "/health", None).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "healthy"));
        let (status, _, _) = call(&app, Method::GET, "/health", Some(&basic("alice:wrong"))).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_viewer_may_only_read() {
        let auth = RestAuth::from_text("alice: a\nvera: v\numa: u\n", Some("vera=viewer\nalice = admin\n")).unwrap();
        assert_eq!(auth.role("uma"), Some(Role::Admin), "unlisted users are admins");
        assert_eq!(auth.role("vera"), Some(Role::Viewer));
        let app = app(auth);
        let vera = basic("vera:v");
        for method in [Method::GET, Method::HEAD] {
            let (status, _, _) = call(&app, method, "/connectors/x", Some(&vera)).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (_, _, body) = call(&app, Method::GET, "/whoami", Some(&vera)).await;
        assert_eq!(body, "vera:viewer");
        for (method, path) in [
            (Method::POST, "/connectors"),
            (Method::PUT, "/connectors/x"),
            (Method::DELETE, "/connectors/x"),
            (Method::PATCH, "/connectors/x"),
        ] {
            let (status, content_type, body) = call(&app, method.clone(), path, Some(&vera)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
            assert_eq!(content_type, "application/json");
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["error_code"], 403);
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("vera") && message.contains("viewer"), "{message}");
        }
        // A viewer with a wrong password is still a 401, not a 403.
        assert_401(&app, Method::POST, "/connectors", Some(&basic("vera:x"))).await;
        for user in ["alice:a", "uma:u"] {
            let (status, _, _) = call(&app, Method::DELETE, "/connectors/x", Some(&basic(user))).await;
            assert_eq!(status, StatusCode::OK, "{user}");
        }
        let (_, _, body) = call(&app, Method::GET, "/whoami", Some(&basic("uma:u"))).await;
        assert_eq!(body, "uma:admin");
    }

    #[tokio::test]
    async fn argon2_hashes_verify() {
        let hash = hash_password("s3cret: with spaces").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert_ne!(hash, hash_password("s3cret: with spaces").unwrap(), "a fresh salt each time");
        let auth = RestAuth::from_text(&format!("alice: {hash}\nbob: plain\n"), Some("alice=viewer")).unwrap();
        assert_eq!(auth.authenticate("alice", "s3cret: with spaces").await, Some(Role::Viewer));
        // Again, now from the cache of the last verified password.
        assert_eq!(auth.authenticate("alice", "s3cret: with spaces").await, Some(Role::Viewer));
        assert_eq!(auth.authenticate("alice", "s3cret").await, None);
        assert_eq!(auth.authenticate("alice", "").await, None);
        assert_eq!(auth.authenticate("alice", &hash).await, None, "the hash is not the password");
        assert_eq!(auth.authenticate("bob", "plain").await, Some(Role::Admin));
        let app = app(auth);
        let (status, _, _) = call(&app, Method::GET, "/connectors", Some(&basic("alice:s3cret: with spaces"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_401(&app, Method::GET, "/connectors", Some(&basic("alice:wrong"))).await;
    }

    #[test]
    fn load_errors() {
        let err = RestAuth::from_text("alice: a\n", Some("alice=superuser\n")).unwrap_err();
        assert!(matches!(&err, AuthError::UnknownRole { user, value } if user == "alice" && value == "superuser"));
        let message = err.to_string();
        assert!(message.contains("alice") && message.contains("superuser"), "{message}");
        let err = RestAuth::from_text("alice: a\n", Some("bob=viewer\n")).unwrap_err();
        assert!(matches!(&err, AuthError::UnknownUser { user, value } if user == "bob" && value == "viewer"));
        for bad in [
            "$argon2id$garbage",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            let err = RestAuth::from_text(&format!("alice: {bad}\n"), None).unwrap_err();
            assert!(matches!(&err, AuthError::BadHash { user, .. } if user == "alice"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("users.properties");
        let err = RestAuth::load(&missing, None).unwrap_err();
        assert!(matches!(err, AuthError::Read { .. }), "{err}");
        std::fs::write(&missing, "alice: hunter2\n").unwrap();
        let err = RestAuth::load(&missing, Some(&dir.path().join("roles.properties"))).unwrap_err();
        assert!(err.to_string().contains("roles"), "{err}");
        let auth = RestAuth::load(&missing, None).unwrap();
        assert_eq!(auth.role("alice"), Some(Role::Admin));
        assert!(!format!("{auth:?}").contains("hunter2"), "Debug shows no passwords: {auth:?}");
    }

    #[test]
    fn constant_time_eq_compares_in_full() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abc\0", b"abc"));
    }
}

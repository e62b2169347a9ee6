//! Login CSRF (docs/barong-weaknesses-fixed.md#w-login-csrf): a page of another site cannot sign a
//! browser in or register an account with a form or text/plain POST. With `*` among the CORS
//! origins any origin may read answers, but only origins listed by name, the daemon's own and the
//! front-end's may open a session.

use super::*;

const EVIL: &str = "https://evil.example";

/// `POST identity/<path>` with `origin` (if any) and a body of `content_type`.
async fn post_from(
    srv: &TestServer,
    path: &str,
    origin: Option<&str>,
    content_type: &str,
    body: String,
) -> (u16, bool, Value) {
    let mut r = reqwest::Client::new().post(srv.url(path)).header("Content-Type", content_type).body(body);
    if let Some(o) = origin {
        r = r.header("Origin", o);
    }
    let resp = r.send().await.expect("request");
    let cookie = resp.headers().contains_key("set-cookie");
    let (status, body) = read(resp).await;
    (status, cookie, body)
}

fn form(email: &str) -> String {
    format!("email={}&password={PASSWORD}", email.replace('@', "%40"))
}

both!(
    sessions_open_only_from_allowed_origins,
    config = "api_cors_origins: 'https://app.example, *'\nfrontend_url: https://www.example\n",
    |srv: TestServer| async move {
        let form_type = "application/x-www-form-urlencoded";
        // Registration: refused from another site, whatever the body type.
        for ct in [form_type, "text/plain", "application/json"] {
            let body = if ct == "application/json" {
                json!({"email": "victim@example.com", "password": PASSWORD}).to_string()
            } else {
                form("victim@example.com")
            };
            let (s, cookie, b) = post_from(&srv, "identity/users", Some(EVIL), ct, body).await;
            assert_eq!((s, cookie, errors(&b)), (403, false, vec!["identity.user.invalid_origin".to_string()]), "{ct}");
        }
        assert!(srv.sql_texts("SELECT email FROM users").await.is_empty(), "nothing registered");
        // From a listed origin, the front-end, the daemon's own origin, or no browser at all: as before.
        let own = srv.base.clone();
        for (i, origin) in
            [Some("https://app.example"), Some("https://www.example"), Some(own.as_str()), None].into_iter().enumerate()
        {
            let (s, cookie, b) =
                post_from(&srv, "identity/users", origin, form_type, form(&format!("u{i}@example.com"))).await;
            assert_eq!((s, cookie), (201, true), "{origin:?}: {b}");
        }

        // Login: an active user, signed in by a cross-site form post before the fix.
        active_user(&srv, "member@example.com").await;
        for ct in [form_type, "text/plain"] {
            let (s, cookie, b) = post_from(&srv, "identity/sessions", Some(EVIL), ct, form("member@example.com")).await;
            assert_eq!(
                (s, cookie, errors(&b)),
                (403, false, vec!["identity.session.invalid_origin".to_string()]),
                "{ct}"
            );
        }
        let (s, cookie, b) =
            post_from(&srv, "identity/sessions", Some("null"), form_type, form("member@example.com")).await;
        assert_eq!((s, cookie), (403, false), "{b}");
        for origin in [Some("https://app.example"), Some(own.as_str()), None] {
            let (s, cookie, b) =
                post_from(&srv, "identity/sessions", origin, form_type, form("member@example.com")).await;
            assert_eq!((s, cookie), (200, true), "{origin:?}: {b}");
        }
    }
);
